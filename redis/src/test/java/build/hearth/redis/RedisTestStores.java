package build.hearth.redis;

import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Opens the stores under test through their providers, each on keys of its own. */
final class RedisTestStores {
  private static final AtomicInteger STORES = new AtomicInteger();

  private RedisTestStores() {}

  /** {@return a key prefix no other store of this JVM uses} */
  static String freshPrefix() {
    return "t" + STORES.incrementAndGet() + "-" + System.nanoTime() + ":";
  }

  /** {@return the connection fields for one server ({@code redis://}) or a Cluster's seeds} */
  static Map<String, Object> standalone(String uri) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("uri", uri);
    return settings;
  }

  static Map<String, Object> cluster(List<String> seeds) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("cluster", Map.of("nodes", seeds));
    return settings;
  }

  static BlobStore blobStore(Map<String, Object> connection, Map<String, ?> more) {
    Map<String, Object> all = new HashMap<>(connection);
    all.putAll(more);
    StoreSettings settings = StoreSettings.of("blobStores.cas", all);
    BlobStore store =
        new RedisBlobStoreProvider().create(StoreContext.newBuilder("cas", settings).build());
    settings.rejectUnknown("redis");
    return store;
  }

  static ActionCacheStore actionCacheStore(Map<String, Object> connection, Map<String, ?> more) {
    Map<String, Object> all = new HashMap<>(connection);
    all.putAll(more);
    StoreSettings settings = StoreSettings.of("actionCacheStores.ac", all);
    ActionCacheStore store =
        new RedisActionCacheStoreProvider().create(StoreContext.newBuilder("ac", settings).build());
    settings.rejectUnknown("redis");
    return store;
  }

  /** Waits {@code duration} of real time, for what Redis expires by its own clock. */
  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
