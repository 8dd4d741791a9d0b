package build.hearth.redis;

import static build.hearth.redis.RedisScript.bytes;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreStats;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A CAS in Redis. A blob's keys share one hash tag, {@code {hash-size}}, so they live in one
 * Cluster slot and one script sees them all: a manifest (a hash: generation {@code g}, chunk count
 * {@code n}, and for a blob of at most one chunk its bytes {@code d}) and, for larger blobs, chunks
 * {@code <base>:c:<generation>:<i>}.
 *
 * <p>An upload writes its chunks under a fresh generation that no manifest names yet (with a day's
 * TTL, so a crashed upload leaves nothing for good), and its commit is one script that checks every
 * chunk is there and then writes the manifest: readers see a whole blob or none. A blob any of
 * whose keys was evicted (by Redis, or its TTL) is absent to every lookup and every read, never
 * short. When a blob is evicted or replaced its chunks expire after {@code readGrace} instead of at
 * once, so a reader that opened it reads to the end.
 *
 * <p>Accounting and LRU eviction to {@code maxSize} live in an {@link LruIndex}; lookups ask the
 * index and the blob's keys together in batches of {@link #BATCH}, each batch one command to the
 * index and one script call per Redis node for the blobs, every batch of a call sent before any
 * reply is awaited.
 *
 * <p>Thread-safe; no lock, every wait is for Redis.
 */
final class RedisBlobStore implements BlobStore {
  /**
   * Digests per script call of FindMissingBlobs: a call holds Redis for its duration, so a large
   * FindMissingBlobs is cut into calls that let other clients' commands in between.
   */
  static final int BATCH = 1000;

  /** How long the chunks of an upload that never commits stay. */
  private static final Duration PENDING_TTL = Duration.ofDays(1);

  private static final RedisScript COMMIT = RedisScript.load("blob-commit");
  private static final RedisScript CHECK = RedisScript.load("blob-check");
  private static final RedisScript DELETE = RedisScript.load("delete-if-generation");
  private static final RedisScript FIND = RedisScript.load("blobs-find");

  /** On a Cluster: one call reads the blobs of many slots of its node (Redis 7). */
  private static final RedisScript FIND_ON_NODE = FIND.withFlags("allow-cross-slot-keys");

  private final RedisConnection redis;
  private final RedisStoreSettings settings;
  private final String prefix;
  private final LruIndex index;
  private final AtomicBoolean closed = new AtomicBoolean();

  RedisBlobStore(RedisConnection redis, RedisStoreSettings settings, Clock clock) {
    this.redis = redis;
    this.settings = settings;
    this.prefix = settings.keyPrefix() + "cas:";
    this.index = new LruIndex(redis, prefix, settings.maxSize(), clock);
    deleteVictims(index.evictToCapacity());
  }

  /** {@return the prefix of every key of {@code digest}, ending in its hash tag} */
  String base(Digest digest) {
    return prefix + "{" + LruIndex.member(digest) + "}";
  }

  /** {@return the chunk count of a blob of {@code size} bytes; 0 when it is kept inline} */
  int chunkCount(long size) {
    return size <= settings.chunkSize()
        ? 0
        : (int) ((size + settings.chunkSize() - 1) / settings.chunkSize());
  }

  @Override
  public boolean contains(Digest digest) {
    return findMissing(List.of(digest)).isEmpty();
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    checkOpen();
    List<Digest> unique = new ArrayList<>(new LinkedHashSet<>(digests));
    // Every batch is sent before any reply is awaited: one round trip for the whole call.
    List<Lookup> lookups = new ArrayList<>();
    for (int from = 0; from < unique.size(); from += BATCH) {
      lookups.add(new Lookup(unique.subList(from, Math.min(unique.size(), from + BATCH))));
    }
    Set<Digest> missing = new HashSet<>();
    for (Lookup lookup : lookups) {
      lookup.collect(missing);
    }
    return missing;
  }

  /**
   * One batch of a FindMissingBlobs: the index's scores of its blobs (one command) and their
   * wholeness, one {@code blobs-find} script call per Redis node instead of a command per blob.
   * Then the uses of the blobs found, sent but not awaited (later commands on this connection, such
   * as an eviction's, reach Redis after them anyway).
   */
  private final class Lookup {
    private final List<Digest> batch;
    private final List<String> members;
    private final CompletableFuture<List<Double>> indexed;
    private final List<Group> groups = new ArrayList<>();

    Lookup(List<Digest> batch) {
      this.batch = batch;
      this.members = batch.stream().map(LruIndex::member).toList();
      this.indexed = index.scores(members);
      Map<Object, Group> byNode = new LinkedHashMap<>();
      for (int i = 0; i < batch.size(); i++) {
        byte[] manifest = bytes(base(batch.get(i)) + ":m");
        byNode.computeIfAbsent(redis.nodeOf(manifest), node -> new Group()).add(i, manifest);
      }
      for (Group group : byNode.values()) {
        group.send();
        groups.add(group);
      }
    }

    /** Waits for the replies and adds the batch's missing blobs to {@code missing}. */
    void collect(Set<Digest> missing) {
      List<Double> scores = redis.await("looking up blobs", indexed);
      boolean[] whole = new boolean[batch.size()];
      for (Group group : groups) {
        group.collect(whole);
      }
      List<String> found = new ArrayList<>();
      for (int i = 0; i < batch.size(); i++) {
        if (whole[i] && scores.get(i) != null) {
          found.add(members.get(i));
        } else {
          missing.add(batch.get(i));
          if (scores.get(i) != null) {
            // Counted but not whole: Redis evicted or expired some of its keys. Uncount it, so
            // the index's total stays the bytes really held.
            index.forget(members.get(i));
          }
        }
      }
      index.touch(found);
    }

    /** The blobs of one batch on one node, inline ones first (the script's order). */
    private final class Group {
      private final List<Integer> inline = new ArrayList<>();
      private final List<Integer> chunked = new ArrayList<>();
      private byte[] firstManifest;
      private CompletableFuture<byte[]> reply;

      private final List<byte[]> inlineManifests = new ArrayList<>();
      private final List<byte[]> chunkedManifests = new ArrayList<>();

      void add(int i, byte[] manifest) {
        if (firstManifest == null) {
          firstManifest = manifest;
        }
        if (chunkCount(batch.get(i).sizeBytes()) > 0) {
          chunked.add(i);
          chunkedManifests.add(manifest);
        } else {
          inline.add(i);
          inlineManifests.add(manifest);
        }
      }

      void send() {
        byte[][] args = new byte[2 + inline.size() + chunked.size()][];
        args[0] = bytes(settings.ttl().toMillis());
        args[1] = bytes(inline.size());
        int a = 2;
        for (byte[] manifest : inlineManifests) {
          args[a++] = manifest;
        }
        for (byte[] manifest : chunkedManifests) {
          args[a++] = manifest;
        }
        reply =
            (redis.isCluster() ? FIND_ON_NODE : FIND)
                .run(redis.commands(), ScriptOutputType.VALUE, new byte[][] {firstManifest}, args);
      }

      void collect(boolean[] whole) {
        byte[] answer;
        try {
          answer = redis.await("looking up blobs", reply);
        } catch (HearthException e) {
          if (!(e.getCause() instanceof RedisCommandExecutionException)
              || e.code() == StatusCode.UNAVAILABLE) {
            throw e;
          }
          // A Cluster's slots moved since the client last saw them: some blob is on another node
          // now ("non local key"). Ask blob by blob, each routed to its own slot's node.
          oneByOne(whole);
          return;
        }
        int a = 0;
        for (int i : inline) {
          whole[i] = answer[a++] == '1';
        }
        for (int i : chunked) {
          whole[i] = answer[a++] == '1';
        }
      }

      private void oneByOne(boolean[] whole) {
        List<Integer> all = new ArrayList<>(inline);
        all.addAll(chunked);
        List<CompletableFuture<Long>> checks = new ArrayList<>();
        for (int i : all) {
          checks.add(
              CHECK.run(
                  redis.commands(),
                  ScriptOutputType.INTEGER,
                  new byte[][] {bytes(base(batch.get(i)) + ":m")},
                  bytes(base(batch.get(i))),
                  bytes(settings.ttl().toMillis()),
                  bytes("0")));
        }
        for (int k = 0; k < all.size(); k++) {
          whole[all.get(k)] = redis.await("looking up blobs", checks.get(k)) == 1;
        }
      }
    }
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    checkOpen();
    String base = base(digest);
    List<Object> manifest =
        redis.await(
            "opening a blob",
            CHECK.run(
                redis.commands(),
                ScriptOutputType.MULTI,
                new byte[][] {bytes(base + ":m")},
                bytes(base),
                bytes(settings.ttl().toMillis()),
                bytes("1")));
    if (manifest == null || manifest.size() < 3) {
      return Optional.empty();
    }
    redis.await("recording a use", index.touch(List.of(LruIndex.member(digest))));
    String generation = text(manifest.get(0));
    int chunks = Integer.parseInt(text(manifest.get(1)));
    if (chunks == 0) {
      byte[] data = manifest.get(2) instanceof byte[] b ? b : new byte[0];
      int from = (int) Math.min(offset, data.length);
      return Optional.of(new ByteArrayInputStream(data, from, data.length - from));
    }
    return Optional.of(new ChunkReader(digest, base, generation, chunks, offset));
  }

  @Override
  public Upload startUpload(Digest digest) {
    checkOpen();
    if (digest.sizeBytes() > settings.maxSize()) {
      throw HearthException.resourceExhausted(
          "blob %s is larger than the store's maxSize of %d bytes", digest, settings.maxSize());
    }
    return new ChunkUpload(digest);
  }

  @Override
  public StoreStats stats() {
    return index.stats();
  }

  /** {@return unavailable, naming Redis's address and the error, while Redis does not answer} */
  @Override
  public StoreHealth health() {
    if (closed.get()) {
      return StoreHealth.unavailable(redis.settings().path() + ": the redis blob store is closed");
    }
    return redis.problem().map(StoreHealth::unavailable).orElse(StoreHealth.healthy());
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      redis.close();
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new HearthException(
          StatusCode.UNAVAILABLE, redis.settings().path() + ": the redis blob store is closed");
    }
  }

  /**
   * Deletes the keys of evicted blobs, each only if it still holds the evicted generation.
   * Package-private for the test of an eviction racing with a re-upload.
   */
  void deleteVictims(List<LruIndex.Victim> victims) {
    if (victims.isEmpty()) {
      return;
    }
    List<CompletableFuture<Long>> deletions = new ArrayList<>();
    for (LruIndex.Victim victim : victims) {
      String base = prefix + "{" + victim.member() + "}";
      deletions.add(
          DELETE.run(
              redis.commands(),
              ScriptOutputType.INTEGER,
              new byte[][] {bytes(base + ":m")},
              bytes(base),
              bytes(victim.generation()),
              bytes(settings.readGrace().toMillis())));
    }
    for (CompletableFuture<Long> deletion : deletions) {
      redis.await("deleting evicted blobs", deletion);
    }
  }

  private static String text(Object value) {
    return value instanceof byte[] b
        ? new String(b, StandardCharsets.UTF_8)
        : String.valueOf(value);
  }

  /**
   * Streams a chunked blob one chunk at a time, the first from the offset. A chunk gone before the
   * reader reaches it (the blob was evicted longer than {@code readGrace} ago) fails the read with
   * an IOException: the reader never sees a short blob.
   */
  private final class ChunkReader extends InputStream {
    private final Digest digest;
    private final String base;
    private final String generation;
    private final int chunks;
    private int nextChunk;
    private long skip;
    private byte[] chunk = new byte[0];
    private int position;

    ChunkReader(Digest digest, String base, String generation, int chunks, long offset) {
      this.digest = digest;
      this.base = base;
      this.generation = generation;
      this.chunks = chunks;
      this.nextChunk = (int) Math.min(chunks, offset / settings.chunkSize());
      this.skip = offset - (long) nextChunk * settings.chunkSize();
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (position == chunk.length) {
        if (nextChunk >= chunks) {
          return -1;
        }
        fetch();
      }
      int n = Math.min(len, chunk.length - position);
      System.arraycopy(chunk, position, b, off, n);
      position += n;
      return n;
    }

    private void fetch() throws IOException {
      byte[] key = bytes(base + ":c:" + generation + ":" + nextChunk);
      byte[] data;
      try {
        data =
            skip > 0
                ? redis.await(
                    "reading a blob",
                    redis.commands().getrange(key, skip, Long.MAX_VALUE).toCompletableFuture())
                : redis.await("reading a blob", redis.commands().get(key).toCompletableFuture());
      } catch (HearthException e) {
        throw new IOException(e.getMessage(), e);
      }
      long expected =
          Math.min(
                  settings.chunkSize(),
                  digest.sizeBytes() - (long) nextChunk * settings.chunkSize())
              - skip;
      if (data == null || data.length != expected) {
        throw new IOException(
            "blob "
                + digest
                + " lost chunk "
                + nextChunk
                + " while being read (evicted more than readGrace ago, or by Redis itself);"
                + " the read fails rather than return a short blob");
      }
      chunk = data;
      position = 0;
      skip = 0;
      nextChunk++;
    }
  }

  /**
   * Buffers one chunk at a time and writes each under the upload's own generation; commit writes
   * the manifest. A blob of at most one chunk is kept in memory and written with the manifest.
   */
  private final class ChunkUpload implements Upload {
    private final Digest digest;
    private final String base;
    private final String generation;
    private final int chunks;
    private final byte[] buffer;
    private int buffered;
    private long written;
    private int flushed;
    private boolean done;

    ChunkUpload(Digest digest) {
      this.digest = digest;
      this.base = base(digest);
      this.generation = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
      this.chunks = chunkCount(digest.sizeBytes());
      this.buffer = new byte[(int) Math.min(settings.chunkSize(), digest.sizeBytes())];
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      if (done) {
        throw new IllegalStateException("the upload of " + digest + " is finished");
      }
      checkOpen();
      written += length;
      // Bytes past the digest's size are only counted: commit() refuses the upload anyway.
      int room = (int) Math.max(0, Math.min(length, digest.sizeBytes() - (written - length)));
      int from = offset;
      while (room > 0) {
        int n = Math.min(room, buffer.length - buffered);
        System.arraycopy(data, from, buffer, buffered, n);
        buffered += n;
        from += n;
        room -= n;
        if (buffered == buffer.length && chunks > 0) {
          flushChunk();
        }
      }
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public void commit() {
      if (done) {
        throw new IllegalStateException("the upload of " + digest + " is finished");
      }
      if (written != digest.sizeBytes()) {
        close();
        throw HearthException.invalidArgument(
            "upload of %s wrote %d bytes, but the digest says %d",
            digest, written, digest.sizeBytes());
      }
      try {
        checkOpen();
        if (chunks > 0 && buffered > 0) {
          flushChunk();
        }
        byte[] inline = chunks == 0 ? buffer : new byte[0];
        Long committed =
            redis.await(
                "committing a blob",
                COMMIT.run(
                    redis.commands(),
                    ScriptOutputType.INTEGER,
                    new byte[][] {bytes(base + ":m")},
                    bytes(base),
                    bytes(generation),
                    bytes(chunks),
                    bytes(settings.ttl().toMillis()),
                    bytes(settings.readGrace().toMillis()),
                    inline));
        if (committed != 1) {
          throw new HearthException(
              StatusCode.UNAVAILABLE,
              "the chunks of blob "
                  + digest
                  + " expired or were evicted from Redis before its upload committed; upload it"
                  + " again");
        }
        done = true;
        deleteVictims(index.add(LruIndex.member(digest), generation, digest.sizeBytes()));
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    @Override
    public void close() {
      if (done) {
        return;
      }
      done = true;
      if (flushed > 0 && !redis.isClosed()) {
        byte[][] keys = new byte[flushed][];
        for (int i = 0; i < flushed; i++) {
          keys[i] = chunkKey(i);
        }
        try {
          // All in the blob's slot, so one DEL does on a Cluster too.
          redis.await("discarding an upload", redis.commands().del(keys).toCompletableFuture());
        } catch (HearthException e) {
          // They expire with their pending TTL.
        }
      }
    }

    private byte[] chunkKey(int i) {
      return bytes(base + ":c:" + generation + ":" + i);
    }

    private void flushChunk() {
      byte[] value = buffered == buffer.length ? buffer : java.util.Arrays.copyOf(buffer, buffered);
      redis.await(
          "writing a chunk",
          redis
              .commands()
              .set(chunkKey(flushed), value, SetArgs.Builder.px(PENDING_TTL.toMillis()))
              .toCompletableFuture());
      flushed++;
      buffered = 0;
    }
  }
}
