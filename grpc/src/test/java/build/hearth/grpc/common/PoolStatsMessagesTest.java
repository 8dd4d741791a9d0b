package build.hearth.grpc.common;

import static build.hearth.grpc.common.PoolStatsSample.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.core.remote.PoolStatsMessages;
import build.hearth.proto.workerapi.PersistentPoolStats;
import org.junit.jupiter.api.Test;

class PoolStatsMessagesTest {

  @Test
  void aRoundTripKeepsEverything() throws Exception {
    PoolStats stats = sample();

    PersistentPoolStats proto = PoolStatsMessages.toProto(stats);
    PoolStats back =
        PoolStatsMessages.fromProto(PersistentPoolStats.parseFrom(proto.toByteArray()));

    assertThat(back).isEqualTo(stats);
  }

  @Test
  void reasonsAndLabelsTravelAsTheMetricsNameThem() {
    PersistentPoolStats proto = PoolStatsMessages.toProto(sample());

    assertThat(proto.getTotals().getRetirementsMap())
        .containsEntry("max_requests", 2L)
        .containsEntry("tool_change", 5L)
        .hasSize(RetirementReason.values().length);
    assertThat(proto.getKeys(0).getProtocol()).isEqualTo("proto");
    assertThat(proto.getKeys(0).getLimits().getAtCapacity()).isEqualTo("one_shot");
    assertThat(proto.getKeys(0).getProcesses(3).getState()).isEqualTo("draining");
    assertThat(proto.getKeys(0).getProcesses(3).getRetiringFor()).isEqualTo("tool_change");
    assertThat(proto.getKeys(0).getProcesses(0).hasResidentBytes()).isFalse();
  }

  @Test
  void aReasonFromANewerWorkerIsLeftOut() {
    PersistentPoolStats proto = PoolStatsMessages.toProto(sample());
    PersistentPoolStats.Builder newer = proto.toBuilder();
    newer.getTotalsBuilder().putRetirements("solar_flare", 9);
    newer.getKeysBuilder(0).getProcessesBuilder(3).setRetiringFor("solar_flare");

    PoolStats back = PoolStatsMessages.fromProto(newer.build());

    assertThat(back.totals()).isEqualTo(sample().totals());
    assertThat(back.keys().get(0).processes().get(3).retiringFor()).isEmpty();
  }

  @Test
  void anUnknownStateIsRefusedNamingTheProcess() {
    PersistentPoolStats.Builder proto = PoolStatsMessages.toProto(sample()).toBuilder();
    proto.getKeysBuilder(0).getProcessesBuilder(1).setState("dreaming");

    assertThatThrownBy(() -> PoolStatsMessages.fromProto(proto.build()))
        .isInstanceOf(HearthException.class)
        .hasMessageContaining("PersistentProcess 101 of key 'javac-17'")
        .satisfies(
            e -> assertThat(((HearthException) e).code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }
}
