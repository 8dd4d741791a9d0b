package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.core.storage.LruIndex.Found;
import build.hearth.core.storage.LruIndex.Victim;
import build.hearth.spi.storage.StoreStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LruIndexTest {
  private final LruIndex<String> index = new LruIndex<>(300);

  @Test
  void evictsTheLeastRecentlyUsedKeyOnRelease() {
    add("a", 100, 0);
    add("b", 100, 0);
    add("c", 100, 0);
    index.use("a", 0);

    List<Victim<String>> victims = add("d", 100, 0);

    assertThat(victims).containsExactly(new Victim<>("b", 100));
    assertThat(index.use("b", 0)).isNull();
    assertThat(index.stats()).isEqualTo(new StoreStats(3, 300, 300, 1, 100));
  }

  @Test
  void skipsClaimedKeysAndEvictsThemWhenReleased() {
    add("a", 100, 0);
    add("b", 100, 0);
    add("c", 100, 0);
    index.claim("a");

    List<Victim<String>> victims = add("d", 100, 0);
    assertThat(victims).extracting(Victim::key).containsExactly("b");
    List<Victim<String>> disposed = new ArrayList<>();
    index.dispose(victims, disposed::add);

    // "a" stays while claimed, though it is the oldest; its release brings no victims as the
    // index already fits.
    assertThat(index.release("a")).isEmpty();
    assertThat(index.use("a", 0)).isNotNull();
    assertThat(disposed).extracting(Victim::key).containsExactly("b");
  }

  @Test
  void replacingAKeyAdjustsTheSize() {
    add("a", 100, 0);

    add("a", 250, 0);

    assertThat(index.stats()).isEqualTo(new StoreStats(1, 250, 300, 0, 0));
    assertThat(index.use("a", 0).size()).isEqualTo(250);
  }

  @Test
  void loadOrdersByModificationTimeAndEvictsTheOldest() {
    List<Victim<String>> victims =
        index.load(
            List.of(
                new Found<>("new", 100, 3_000),
                new Found<>("old", 100, 1_000),
                new Found<>("mid", 100, 2_000),
                new Found<>("newest", 100, 4_000)));

    assertThat(victims).extracting(Victim::key).containsExactly("old");
    index.dispose(victims, victim -> {});
    assertThat(index.stats().entries()).isEqualTo(3);
  }

  @Test
  void asksForATouchOnlyWhenTheRecordedUseIsAMinuteOld() {
    add("a", 1, 1_000);

    assertThat(index.use("a", 60_999).touchFile()).isFalse();
    assertThat(index.use("a", 61_000).touchFile()).isTrue();
    assertThat(index.use("a", 61_001).touchFile()).isFalse();
  }

  @Test
  void aSecondClaimWaitsForTheFirstRelease() throws Exception {
    index.claim("a");
    AtomicReference<Thread> waiter = new AtomicReference<>();
    CompletableFuture<Void> second =
        CompletableFuture.runAsync(
            () -> {
              waiter.set(Thread.currentThread());
              index.claim("a");
              index.dispose(index.release("a"), victim -> {});
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> waiter.get() != null && waiter.get().getState() == Thread.State.WAITING);
    assertThat(second).isNotDone();

    index.release("a");

    second.get(10, TimeUnit.SECONDS);
  }

  private List<Victim<String>> add(String key, long size, long now) {
    index.claim(key);
    index.put(key, size, now);
    return index.release(key);
  }
}
