package build.hearth.redis;

import build.hearth.spi.storage.StoreSettings;
import java.time.Duration;

/**
 * The settings both {@code redis} stores read besides the connection's: {@code keyPrefix}, {@code
 * maxSize} and {@code ttl}; the blob store also {@code chunkSize} and {@code readGrace}.
 *
 * @param keyPrefix what every key of the store starts with, so several caches share one Redis
 * @param maxSize the most bytes of content the store keeps before it evicts
 * @param ttl how long a blob or entry lives after its last write or use, or zero for no expiry
 * @param chunkSize the bytes per chunk of a large blob; blobs up to this size are one key
 * @param readGrace how long the chunks of an evicted or replaced blob stay for readers
 */
record RedisStoreSettings(
    String keyPrefix, long maxSize, Duration ttl, int chunkSize, Duration readGrace) {
  static final String KEY_PREFIX = "keyPrefix";
  static final String MAX_SIZE = "maxSize";
  static final String TTL = "ttl";
  static final String CHUNK_SIZE = "chunkSize";
  static final String READ_GRACE = "readGrace";

  static final String DEFAULT_KEY_PREFIX = "hearth:";
  static final int DEFAULT_CHUNK_SIZE = 1 << 20;
  static final int MIN_CHUNK_SIZE = 1 << 10;
  static final int MAX_CHUNK_SIZE = 64 << 20;
  static final Duration DEFAULT_READ_GRACE = Duration.ofMinutes(5);

  /**
   * {@return the {@code keyPrefix} setting, or its default}
   *
   * @throws build.hearth.api.ConfigException naming the field if it holds a brace, which would
   *     change the keys' Redis Cluster hash tags
   */
  static String keyPrefix(StoreSettings settings) {
    String prefix = settings.string(KEY_PREFIX).orElse(DEFAULT_KEY_PREFIX);
    if (prefix.contains("{") || prefix.contains("}")) {
      throw settings.error(
          KEY_PREFIX,
          "must not contain '{' or '}', which would change the keys' Redis Cluster hash tags;"
              + " found \""
              + prefix
              + "\"");
    }
    return prefix;
  }

  /**
   * Reads the settings of a store.
   *
   * @param settings the store's settings
   * @param defaultMaxSize the {@code maxSize} when absent
   * @param chunked whether the store chunks blobs (reads {@code chunkSize} and {@code readGrace})
   * @throws build.hearth.api.ConfigException naming the field for a bad value
   */
  static RedisStoreSettings from(StoreSettings settings, long defaultMaxSize, boolean chunked) {
    String prefix = keyPrefix(settings);
    long maxSize = settings.bytes(MAX_SIZE).orElse(defaultMaxSize);
    if (maxSize <= 0) {
      throw settings.error(MAX_SIZE, "must be a positive size such as \"10GiB\", found " + maxSize);
    }
    Duration ttl = RedisConnectionSettings.duration(settings, TTL, Duration.ZERO);
    if (!ttl.isZero() && ttl.toSeconds() < 1) {
      throw settings.error(TTL, "must be at least 1s, found " + ttl.toMillis() + "ms");
    }
    int chunkSize = DEFAULT_CHUNK_SIZE;
    Duration readGrace = DEFAULT_READ_GRACE;
    if (chunked) {
      long chunk = settings.bytes(CHUNK_SIZE).orElse(DEFAULT_CHUNK_SIZE);
      if (chunk < MIN_CHUNK_SIZE || chunk > MAX_CHUNK_SIZE) {
        throw settings.error(
            CHUNK_SIZE,
            "must be between 1KiB and 64MiB (a Redis value per chunk), found " + chunk + " bytes");
      }
      chunkSize = (int) chunk;
      readGrace = RedisConnectionSettings.duration(settings, READ_GRACE, DEFAULT_READ_GRACE);
    }
    return new RedisStoreSettings(prefix, maxSize, ttl, chunkSize, readGrace);
  }
}
