package build.hearth.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import build.hearth.core.execution.ExecutionListener;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RecentActionsTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC);

  private static Digest digest(int i) {
    return Digest.of(ByteString.copyFromUtf8("action " + i));
  }

  private static ExecuteResponse exit(int code, int outputs) {
    ActionResult.Builder result = ActionResult.newBuilder().setExitCode(code);
    for (int i = 0; i < outputs; i++) {
      result.addOutputFiles(
          OutputFile.newBuilder().setPath("out/" + i).setDigest(digest(i).toProto()));
    }
    return ExecuteResponse.newBuilder().setResult(result).build();
  }

  @Test
  void theCountBoundForgetsTheOldestFirst() {
    RecentActions recent = RecentActions.create(3, 1 << 20, CLOCK);
    for (int i = 0; i < 5; i++) {
      recent.record("", digest(i), exit(0, 0));
    }

    assertThat(recent.size()).isEqualTo(3);
    assertThat(recent.find("", digest(0))).isEmpty();
    assertThat(recent.find("", digest(1))).isEmpty();
    assertThat(recent.newest(10, i -> true))
        .extracting(RecordedAction::actionDigest)
        .containsExactly(digest(4), digest(3), digest(2));
    assertThat(recent.executions("")).containsExactly(5, 0);
  }

  @Test
  void theByteBoundHoldsWhateverTheResponsesWeigh() {
    long maxBytes = 256 << 10;
    RecentActions recent = RecentActions.create(1_000_000, maxBytes, CLOCK);
    Random random = new Random(17);
    for (int i = 0; i < 5_000; i++) {
      // Failures are kept whole, with up to 300 outputs each.
      recent.record("i" + (i % 3), digest(i), exit(1 + random.nextInt(3), random.nextInt(300)));
      assertThat(recent.retainedBytes()).isLessThanOrEqualTo(maxBytes);
    }
    long counted = 0;
    for (RecordedAction action : recent.newest(Integer.MAX_VALUE, i -> true)) {
      assertThat(action.retainedBytes())
          .isGreaterThanOrEqualTo(action.response().getSerializedSize());
      counted += action.retainedBytes();
    }
    assertThat(counted).isEqualTo(recent.retainedBytes());
    assertThat(recent.size()).isGreaterThan(1);
  }

  @Test
  void successesAreKeptWithoutOutputsAndFailuresWhole() {
    RecentActions recent = RecentActions.create(10, 1 << 20, CLOCK);
    recent.record("", digest(1), exit(0, 5));
    recent.record("", digest(2), exit(2, 5));

    assertThat(
            recent.find("", digest(1)).orElseThrow().response().getResult().getOutputFilesCount())
        .isZero();
    RecordedAction failed = recent.find("", digest(2)).orElseThrow();
    assertThat(failed.response().getResult().getOutputFilesCount()).isEqualTo(5);
    assertThat(failed.outcome()).isEqualTo("exit 2");
    assertThat(failed.succeeded()).isFalse();
  }

  @Test
  void aFailureTooLargeForItsShareIsKeptSlim() {
    long maxBytes = 64 << 10;
    RecentActions recent = RecentActions.create(10, maxBytes, CLOCK);
    ExecuteResponse huge =
        exit(1, 0).toBuilder()
            .setMessage("x".repeat(100_000))
            .setResult(
                exit(1, 2_000).getResult().toBuilder()
                    .setStderrRaw(ByteString.copyFrom(new byte[50_000])))
            .build();
    recent.record("", digest(1), huge);
    recent.record("", digest(2), exit(0, 0));

    RecordedAction kept = recent.find("", digest(1)).orElseThrow();
    assertThat(kept.retainedBytes()).isLessThanOrEqualTo(maxBytes / 16 + 8192);
    assertThat(kept.response().getResult().getExitCode()).isEqualTo(1);
    assertThat(recent.find("", digest(2))).isPresent();
  }

  @Test
  void theListenerRecordsAfterTellingTheNextOne() {
    RecentActions recent = RecentActions.create(10, 1 << 20, CLOCK);
    List<Digest> heard = new ArrayList<>();
    ExecutionListener listener =
        recent.listener(
            "team",
            new ExecutionListener() {
              @Override
              public void executionCompleted(Digest actionDigest, ExecuteResponse response) {
                heard.add(actionDigest);
                throw new IllegalStateException("a broken metrics listener");
              }
            });
    assertThatThrownBy(() -> listener.executionCompleted(digest(1), exit(0, 0)))
        .isInstanceOf(IllegalStateException.class);

    assertThat(heard).containsExactly(digest(1));
    assertThat(recent.find("team", digest(1))).isPresent();
    assertThat(recent.find("", digest(1))).isEmpty();
  }

  @Test
  void boundsBelowTheMinimumAreRefused() {
    assertThatThrownBy(() -> RecentActions.create(0, 1 << 20, CLOCK))
        .hasMessageContaining("maxActions must be at least 1");
    assertThatThrownBy(() -> RecentActions.create(1, 1024, CLOCK))
        .hasMessageContaining("maxBytes must be at least 64 KiB");
  }
}
