package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.hearth.api.Digest;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The actions the Execute driver uploads, and its closed-loop runner; nothing is timed. */
class ExecuteLoadPartsTest {

  @Test
  void everyActionIsDistinctAndRunsTrueWithOnlyPath() throws InvalidProtocolBufferException {
    TrivialActions actions = TrivialActions.create(50, false);

    Set<Digest> digests = new HashSet<>();
    for (int i = 0; i < actions.size(); i++) {
      digests.add(actions.action(i));
    }
    assertThat(digests).hasSize(50);
    // 50 commands, 50 actions and the empty input root.
    assertThat(actions.blobs()).hasSize(101);
    actions.blobs().forEach((digest, bytes) -> assertThat(Digest.of(bytes)).isEqualTo(digest));

    Action first = Action.parseFrom(actions.blobs().get(actions.action(0)));
    assertThat(first.getDoNotCache()).isFalse();
    assertThat(first.getInputRootDigest().getSizeBytes()).isZero();
    Command command =
        Command.parseFrom(actions.blobs().get(Digest.fromProto(first.getCommandDigest())));
    assertThat(command.getArgumentsList()).containsExactly("/bin/true", "action-0");
    assertThat(command.getEnvironmentVariablesList())
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getName()).isEqualTo("PATH");
              assertThat(v.getValue()).isEqualTo("/bin:/usr/bin");
            });
  }

  @Test
  void doNotCacheIsSetOnEveryActionWhenAsked() throws InvalidProtocolBufferException {
    TrivialActions actions = TrivialActions.create(3, true);

    for (int i = 0; i < 3; i++) {
      assertThat(Action.parseFrom(actions.blobs().get(actions.action(i))).getDoNotCache()).isTrue();
    }
    assertThatThrownBy(() -> TrivialActions.create(0, false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aClosedLoopRunsEachOperationOnceWithAtMostItsConcurrencyInFlight() {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    Set<Integer> seen = ConcurrentHashMap.newKeySet();
    CpuTimes cpu = new CpuTimes();

    ClosedLoop.Result<Integer> result =
        new ClosedLoop("test-loop")
            .run(
                8,
                100,
                1_000,
                index -> {
                  mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  try {
                    assertThat(seen.add(index)).as("operation %d ran twice", index).isTrue();
                    return index * 2;
                  } finally {
                    inFlight.decrementAndGet();
                  }
                },
                cpu);

    assertThat(seen)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(100, 1_100).boxed().toList());
    assertThat(mostInFlight.get()).isBetween(1, 8);
    assertThat(result.samples()).hasSize(1_000);
    for (int i = 0; i < 1_000; i++) {
      assertThat(result.samples().get(i)).isEqualTo((100 + i) * 2);
    }
    assertThat(result.nanos()).hasSize(1_000);
    assertThat(Arrays.stream(result.nanos()).min().orElseThrow()).isNotNegative();
    assertThat(result.wallNanos()).isPositive();
    assertThat(cpu.describe()).startsWith("wall ");
  }

  @Test
  void theFirstFailureStopsTheLoopAndIsRethrown() {
    AtomicInteger started = new AtomicInteger();

    assertThatThrownBy(
            () ->
                new ClosedLoop("test-loop")
                    .run(
                        1,
                        0,
                        100,
                        index -> {
                          started.incrementAndGet();
                          if (index == 5) {
                            throw new IllegalStateException("action 5 exited with 1");
                          }
                          return null;
                        },
                        null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("action 5 exited with 1");
    // One thread: nothing after the failing operation starts.
    assertThat(started.get()).isEqualTo(6);
  }

  @Test
  void moreThreadsThanOperationsAreNotStarted() {
    Set<String> threads = ConcurrentHashMap.newKeySet();

    new ClosedLoop("test-loop")
        .run(
            32,
            0,
            3,
            index -> {
              threads.add(Thread.currentThread().getName());
              return null;
            },
            null);

    assertThat(threads).hasSizeBetween(1, 3).allMatch(name -> name.startsWith("test-loop-"));
  }
}
