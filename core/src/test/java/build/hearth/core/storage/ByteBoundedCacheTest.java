package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.spi.storage.StoreStats;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ByteBoundedCacheTest {
  private final ByteBoundedCache cache = new ByteBoundedCache(300);

  @Test
  void evictsTheLeastRecentlyUsedToAdmitANewValue() {
    cache.put(key("a"), new byte[100]);
    cache.put(key("b"), new byte[100]);
    cache.put(key("c"), new byte[100]);
    cache.get(key("a"));

    cache.put(key("d"), new byte[100]);

    assertThat(cache.get(key("b"))).isNull();
    assertThat(cache.absentAmong(List.of(key("a"), key("c"), key("d")))).isEmpty();
    assertThat(cache.stats()).isEqualTo(new StoreStats(3, 300, 300, 1, 100));
  }

  @Test
  void aValueAsLargeAsTheCapacityEvictsEverythingElse() {
    cache.put(key("a"), new byte[100]);
    cache.put(key("b"), new byte[150]);

    cache.putIfAbsent(key("c"), new byte[300]);

    assertThat(cache.get(key("c"))).hasSize(300);
    assertThat(cache.stats()).isEqualTo(new StoreStats(1, 300, 300, 2, 250));
  }

  @Test
  void evictsOnlyAsMuchAsTheNewValueNeeds() {
    cache.put(key("a"), new byte[50]);
    cache.put(key("b"), new byte[50]);
    cache.put(key("c"), new byte[200]);

    cache.put(key("d"), new byte[60]);

    assertThat(cache.absentAmong(List.of(key("a"), key("b"), key("c"), key("d"))))
        .containsExactlyInAnyOrder(key("a"), key("b"));
    assertThat(cache.stats()).isEqualTo(new StoreStats(2, 260, 300, 2, 100));
  }

  @Test
  void putIfAbsentKeepsThePresentValueAndRefreshesIt() {
    byte[] first = new byte[100];
    cache.put(key("a"), first);
    cache.put(key("b"), new byte[100]);
    cache.put(key("c"), new byte[100]);

    cache.putIfAbsent(key("a"), new byte[100]);
    cache.put(key("d"), new byte[100]);

    assertThat(cache.get(key("a"))).isSameAs(first);
    assertThat(cache.get(key("b"))).isNull();
    assertThat(cache.stats()).isEqualTo(new StoreStats(3, 300, 300, 1, 100));
  }

  @Test
  void replacingAValueAdjustsTheSizeAndIsNoEviction() {
    cache.put(key("a"), new byte[100]);
    cache.put(key("b"), new byte[100]);

    cache.put(key("a"), new byte[200]);

    assertThat(cache.get(key("a"))).hasSize(200);
    assertThat(cache.stats()).isEqualTo(new StoreStats(2, 300, 300, 0, 0));
  }

  @Test
  void replacingAValueWithALargerOneEvictsOthersButNeverItself() {
    cache.put(key("a"), new byte[100]);
    cache.put(key("b"), new byte[100]);
    cache.put(key("c"), new byte[100]);

    cache.put(key("a"), new byte[250]);

    assertThat(cache.get(key("a"))).hasSize(250);
    assertThat(cache.stats()).isEqualTo(new StoreStats(1, 250, 300, 2, 200));
  }

  @Test
  void removeAndClearAreNotEvictions() {
    cache.put(key("a"), new byte[100]);
    cache.put(key("b"), new byte[100]);

    cache.remove(key("a"));
    cache.remove(key("absent"));
    assertThat(cache.stats()).isEqualTo(new StoreStats(1, 100, 300, 0, 0));

    cache.clear();
    assertThat(cache.stats()).isEqualTo(new StoreStats(0, 0, 300, 0, 0));
    assertThat(cache.get(key("b"))).isNull();
  }

  @Test
  void refusesAValueLargerThanTheCapacity() {
    cache.put(key("a"), new byte[100]);

    assertThatThrownBy(() -> cache.put(key("b"), new byte[301]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> cache.putIfAbsent(key("b"), new byte[301]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(cache.stats()).isEqualTo(new StoreStats(1, 100, 300, 0, 0));
  }

  @Test
  void rejectsANonPositiveCapacity() {
    assertThatThrownBy(() -> new ByteBoundedCache(0)).isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Eight threads put, replace, read and remove values of a small key space. Afterwards the
   * statistics must match the values still present exactly; the threads' own seeds make each run
   * the same per thread.
   */
  @Test
  void accountingStaysExactUnderConcurrency() throws Exception {
    ByteBoundedCache shared = new ByteBoundedCache(10_000);
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      keys.add(key("k" + i));
    }
    ExecutorService executor = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<Void>> workers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        Random random = new Random(0xB17E5L + t);
        workers.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int op = 0; op < 20_000; op++) {
                    Digest key = keys.get(random.nextInt(keys.size()));
                    switch (random.nextInt(4)) {
                      case 0 -> shared.put(key, new byte[1 + random.nextInt(1_000)]);
                      case 1 -> shared.putIfAbsent(key, new byte[1 + random.nextInt(1_000)]);
                      case 2 -> shared.remove(key);
                      default -> shared.get(key);
                    }
                  }
                },
                executor));
      }
      CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    } finally {
      executor.shutdownNow();
    }

    long entries = 0;
    long bytes = 0;
    for (Digest key : keys) {
      byte[] value = shared.get(key);
      if (value != null) {
        entries++;
        bytes += value.length;
      }
    }
    StoreStats stats = shared.stats();
    assertThat(stats.entries()).isEqualTo(entries);
    assertThat(stats.sizeBytes()).isEqualTo(bytes).isLessThanOrEqualTo(10_000);
    assertThat(stats.evictions()).isPositive();
  }

  private static Digest key(String name) {
    return Digest.of(name.getBytes(StandardCharsets.UTF_8));
  }
}
