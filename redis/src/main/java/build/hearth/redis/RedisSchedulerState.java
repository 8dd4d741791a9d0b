package build.hearth.redis;

import static build.hearth.redis.RedisScript.bytes;

import build.hearth.spi.scheduler.Adopted;
import build.hearth.spi.scheduler.Claim;
import build.hearth.spi.scheduler.Claimed;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.ExecutionRecord;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.Requeued;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.WorkerRecord;
import build.hearth.spi.storage.StoreHealth;
import com.google.protobuf.ByteString;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code redis} scheduler state: every key of one scheduler carries one hash tag, {@code
 * {<keyPrefix>scheduler:<name>}}, so each transition is one Lua script in one slot, also on a
 * Cluster (one node holds a scheduler's state, which at the rates of a build farm is far from its
 * limits). Notifications go out with {@code PUBLISH} on the tag's {@code events} channel from
 * inside the scripts, so a change and its notification are one step.
 *
 * <p>The keys, each after the tag and a colon: {@code x:<id>} a hash per execution (its entry,
 * stage, claim, and once completed its response, expiring after the retention); {@code q:<queue
 * key>} a sorted set per queue (score the priority, member a text that orders requeued entries
 * first, then by sequence); {@code queues} the queue lengths; {@code byq} every queued id by queue
 * time; {@code deadlines} claims by deadline; {@code claimed} every claimed id; {@code wc:<worker>}
 * a worker's claims; {@code m:<action key>} the execution in flight for an action; {@code
 * o:<operation>} an operation's execution (with its time to live); {@code workers}, {@code servers}
 * and {@code leases} the registry; {@code seq} the sequence counter.
 *
 * <p>This data is the service's memory of what it was asked to do: it must never be evicted. Give
 * it a Redis with {@code maxmemory-policy noeviction} and persistence (AOF), separate from a cache
 * Redis that uses {@code allkeys-lru}.
 */
final class RedisSchedulerState implements SchedulerState {
  private static final Logger logger = LoggerFactory.getLogger(RedisSchedulerState.class);

  private static final RedisScript ENQUEUE = RedisScript.load("sched-enqueue");
  private static final RedisScript CLAIM = RedisScript.load("sched-claim");
  private static final RedisScript REQUEUE = RedisScript.load("sched-requeue");
  private static final RedisScript COMPLETE = RedisScript.load("sched-complete");
  private static final RedisScript WORKERS = RedisScript.load("sched-workers");
  private static final RedisScript ADOPT = RedisScript.load("sched-adopt");

  // What a queue entry, a claim and an execution's record are read from; only the entry needs
  // the task.
  private static final List<String> ENTRY_FIELDS =
      List.of("stage", "key", "akey", "prio", "tmo", "task", "att", "lost", "enq", "rq");
  private static final List<String> CLAIM_FIELDS = List.of("stage", "w", "s", "att", "cat", "dl");
  private static final List<String> RECORD_FIELDS = List.of("stage", "akey", "att", "w", "resp");

  private final RedisConnection redis;
  private final String prefix;
  private final byte[] prefixBytes;
  private final byte[][] routing;
  private final byte[] channel;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Object subscriptionLock = new Object();
  // Opened with the first subscriber; guarded by subscriptionLock.
  private StatefulRedisPubSubConnection<byte[], byte[]> subscription;

  RedisSchedulerState(RedisConnection redis, String keyPrefix, String schedulerName) {
    this.redis = redis;
    this.prefix = "{" + keyPrefix + "scheduler:" + schedulerName + "}:";
    this.prefixBytes = bytes(prefix);
    this.routing = new byte[][] {key("seq")};
    this.channel = key("events");
  }

  // ---- the queue ----

  @Override
  public Enqueued enqueue(QueuedExecution execution, int maxQueued) {
    List<Object> reply =
        run(
            "queueing execution " + execution.executionId(),
            ENQUEUE,
            ScriptOutputType.MULTI,
            bytes(execution.executionId()),
            bytes(execution.queueKey()),
            bytes(execution.actionKey()),
            bytes(execution.priority()),
            bytes(execution.timeout().toMillis()),
            execution.task().toByteArray(),
            bytes(execution.enqueuedAt().toEpochMilli()),
            bytes(maxQueued));
    Enqueued.Outcome outcome =
        switch (text(reply.get(0))) {
          case "Q" -> Enqueued.Outcome.QUEUED;
          case "J" -> Enqueued.Outcome.JOINED;
          default -> Enqueued.Outcome.FULL;
        };
    return new Enqueued(outcome, text(reply.get(1)), (Long) reply.get(2));
  }

  @Override
  public Map<String, Long> queues() {
    Map<byte[], byte[]> lengths =
        redis.await("reading the queues", redis.commands().hgetall(key("queues")));
    Map<String, Long> queues = new TreeMap<>();
    lengths.forEach((k, v) -> queues.put(text(k), Long.parseLong(text(v))));
    return queues;
  }

  @Override
  public Optional<Claimed> claim(
      Collection<String> queueKeys, String workerId, String serverId, Instant now, Duration grace) {
    if (queueKeys.isEmpty()) {
      return Optional.empty();
    }
    List<byte[]> args = new ArrayList<>();
    args.add(bytes(workerId));
    args.add(bytes(serverId));
    args.add(bytes(now.toEpochMilli()));
    args.add(bytes(grace.toMillis()));
    for (String key : queueKeys) {
      args.add(bytes(key));
    }
    List<Object> fields =
        run("claiming work for worker " + workerId, CLAIM, ScriptOutputType.MULTI, args);
    if (fields == null || fields.isEmpty()) {
      return Optional.empty();
    }
    String id = text(fields.get(0));
    Map<String, byte[]> hash = hash(fields.subList(1, fields.size()));
    return Optional.of(new Claimed(entry(id, hash), claim(id, hash)));
  }

  @Override
  public Requeued requeue(
      String executionId, String workerId, int maxRetries, boolean countAttempt, Instant now) {
    List<Object> reply =
        run(
            "queueing execution " + executionId + " again",
            REQUEUE,
            ScriptOutputType.MULTI,
            bytes(executionId),
            bytes(workerId),
            bytes(maxRetries),
            bytes(countAttempt ? "1" : "0"),
            bytes(now.toEpochMilli()));
    String outcome = text(reply.get(0));
    if (outcome.equals("N")) {
      return new Requeued(Requeued.Outcome.NOT_CLAIMED, Optional.empty());
    }
    Map<String, byte[]> hash = hash(reply.subList(1, reply.size()));
    QueuedExecution entry = entry(executionId, hash);
    if (outcome.equals("R")) {
      return new Requeued(Requeued.Outcome.REQUEUED, Optional.of(entry));
    }
    return new Requeued(
        Requeued.Outcome.GAVE_UP, Optional.of(entry.requeuedAfter(workerId, true, now)));
  }

  @Override
  public List<QueuedExecution> queuedBefore(Instant before, int max) {
    List<byte[]> ids =
        redis.await(
            "reading the oldest queued executions",
            redis
                .commands()
                .zrangebyscore(
                    key("byq"),
                    Range.from(
                        Range.Boundary.unbounded(),
                        Range.Boundary.excluding((double) before.toEpochMilli())),
                    Limit.create(0, max)));
    List<QueuedExecution> entries = new ArrayList<>();
    for (Map.Entry<String, Map<String, byte[]>> e : fields(ids, ENTRY_FIELDS).entrySet()) {
      if ("Q".equals(text(e.getValue().get("stage")))) {
        entries.add(entry(e.getKey(), e.getValue()));
      }
    }
    return entries;
  }

  @Override
  public List<Claim> overdueClaims(Instant now, int max) {
    List<byte[]> ids =
        redis.await(
            "reading the overdue claims",
            redis
                .commands()
                .zrangebyscore(
                    key("deadlines"),
                    Range.from(
                        Range.Boundary.unbounded(),
                        Range.Boundary.including((double) now.toEpochMilli())),
                    Limit.create(0, max)));
    List<Claim> claims = new ArrayList<>();
    for (Map.Entry<String, Map<String, byte[]>> e : fields(ids, CLAIM_FIELDS).entrySet()) {
      if ("E".equals(text(e.getValue().get("stage")))) {
        claims.add(claim(e.getKey(), e.getValue()));
      }
    }
    return claims;
  }

  @Override
  public Counts counts() {
    CompletableFuture<Long> queued = redis.commands().zcard(key("byq")).toCompletableFuture();
    CompletableFuture<Long> claimed = redis.commands().scard(key("claimed")).toCompletableFuture();
    return new Counts(
        redis.await("counting queued executions", queued),
        redis.await("counting claimed executions", claimed));
  }

  // ---- executions ----

  @Override
  public boolean complete(String executionId, ByteString response, Duration retention) {
    Long done =
        run(
            "completing execution " + executionId,
            COMPLETE,
            ScriptOutputType.INTEGER,
            bytes(executionId),
            response.toByteArray(),
            bytes(Math.max(1, retention.toMillis())));
    return done == 1;
  }

  @Override
  public Optional<ExecutionRecord> execution(String executionId) {
    Map<String, byte[]> hash = fields(List.of(bytes(executionId)), RECORD_FIELDS).get(executionId);
    if (hash == null) {
      return Optional.empty();
    }
    ExecutionRecord.Stage stage =
        switch (text(hash.get("stage"))) {
          case "Q" -> ExecutionRecord.Stage.QUEUED;
          case "E" -> ExecutionRecord.Stage.EXECUTING;
          default -> ExecutionRecord.Stage.COMPLETED;
        };
    return Optional.of(
        new ExecutionRecord(
            executionId,
            text(hash.get("akey")),
            stage,
            Integer.parseInt(text(hash.get("att"))),
            stage == ExecutionRecord.Stage.EXECUTING ? text(hash.get("w")) : "",
            stage == ExecutionRecord.Stage.COMPLETED
                ? Optional.of(ByteString.copyFrom(hash.get("resp")))
                : Optional.empty()));
  }

  @Override
  public Optional<Claim> claimOf(String executionId) {
    Map<String, byte[]> hash = fields(List.of(bytes(executionId)), CLAIM_FIELDS).get(executionId);
    if (hash == null || !"E".equals(text(hash.get("stage")))) {
      return Optional.empty();
    }
    return Optional.of(claim(executionId, hash));
  }

  // ---- operations ----

  @Override
  public void putOperation(String operationName, String executionId, Duration ttl) {
    redis.await(
        "recording operation " + operationName,
        redis
            .commands()
            .set(
                key("o:" + operationName),
                bytes(executionId),
                SetArgs.Builder.px(Math.max(1, ttl.toMillis()))));
  }

  @Override
  public Optional<String> operation(String operationName) {
    byte[] id =
        redis.await(
            "looking up operation " + operationName,
            redis.commands().get(key("o:" + operationName)));
    return id == null ? Optional.empty() : Optional.of(text(id));
  }

  // ---- workers ----

  @Override
  public void register(WorkerRecord worker, Instant now, Duration lease) {
    run(
        "registering worker " + worker.workerId(),
        WORKERS,
        ScriptOutputType.INTEGER,
        bytes("register"),
        bytes(worker.workerId()),
        bytes(worker.serverId()),
        WorkerRecords.encode(worker),
        bytes(now.plus(lease).toEpochMilli()));
  }

  @Override
  public boolean renew(String workerId, String serverId, Instant now, Duration lease) {
    Long renewed =
        run(
            "renewing the lease of worker " + workerId,
            WORKERS,
            ScriptOutputType.INTEGER,
            bytes("renew"),
            bytes(workerId),
            bytes(serverId),
            bytes(now.plus(lease).toEpochMilli()));
    return renewed == 1;
  }

  @Override
  public void unregister(String workerId, String serverId) {
    run(
        "unregistering worker " + workerId,
        WORKERS,
        ScriptOutputType.INTEGER,
        bytes("unregister"),
        bytes(workerId),
        bytes(serverId));
  }

  @Override
  public List<WorkerRecord> workers(Instant now) {
    CompletableFuture<Map<byte[], byte[]>> records =
        redis.commands().hgetall(key("workers")).toCompletableFuture();
    CompletableFuture<List<byte[]>> live =
        redis
            .commands()
            .zrangebyscore(
                key("leases"),
                Range.from(
                    Range.Boundary.excluding((double) now.toEpochMilli()),
                    Range.Boundary.unbounded()))
            .toCompletableFuture();
    Set<String> leased = new HashSet<>();
    for (byte[] id : redis.await("reading the worker leases", live)) {
      leased.add(text(id));
    }
    List<WorkerRecord> workers = new ArrayList<>();
    redis
        .await("reading the workers", records)
        .forEach(
            (id, record) -> {
              if (leased.contains(text(id))) {
                workers.add(WorkerRecords.decode(text(id), record));
              }
            });
    workers.sort(Comparator.comparing(WorkerRecord::workerId));
    return workers;
  }

  @Override
  public List<Claim> lapsed(Instant now, int max) {
    List<Object> flat =
        run(
            "finding workers whose lease lapsed",
            WORKERS,
            ScriptOutputType.MULTI,
            bytes("lapsed"),
            bytes(now.toEpochMilli()),
            bytes(max));
    return claims(flat);
  }

  @Override
  public Adopted adopt(String workerId, String serverId, Collection<String> running) {
    List<byte[]> args = new ArrayList<>();
    args.add(bytes(workerId));
    args.add(bytes(serverId));
    running.forEach(id -> args.add(bytes(id)));
    List<Object> reply =
        run("adopting the claims of worker " + workerId, ADOPT, ScriptOutputType.MULTI, args);
    @SuppressWarnings("unchecked")
    List<Object> adopted = (List<Object>) reply.get(0);
    @SuppressWarnings("unchecked")
    List<Object> others = (List<Object>) reply.get(1);
    List<Claimed> claimed = new ArrayList<>();
    for (Object item : adopted) {
      @SuppressWarnings("unchecked")
      List<Object> fields = (List<Object>) item;
      String id = text(fields.get(0));
      Map<String, byte[]> hash = hash(fields.subList(1, fields.size()));
      claimed.add(new Claimed(entry(id, hash), claim(id, hash)));
    }
    return new Adopted(claimed, claims(others));
  }

  // ---- notifications ----

  @Override
  public AutoCloseable subscribe(Listener listener) {
    synchronized (subscriptionLock) {
      if (subscription == null) {
        StatefulRedisPubSubConnection<byte[], byte[]> connection = redis.pubSub();
        connection.addListener(
            new RedisPubSubAdapter<>() {
              @Override
              public void message(byte[] channel, byte[] message) {
                tell(text(message));
              }
            });
        redis.await("subscribing to " + prefix + "events", connection.async().subscribe(channel));
        subscription = connection;
      }
      listeners.add(listener);
    }
    return () -> listeners.remove(listener);
  }

  private void tell(String event) {
    if (event.isEmpty()) {
      return;
    }
    String subject = event.substring(1);
    for (Listener listener : listeners) {
      try {
        if (event.charAt(0) == 'q') {
          listener.queued(subject);
        } else if (event.charAt(0) == 'c') {
          listener.completed(subject);
        }
      } catch (RuntimeException e) {
        logger.warn("a scheduler-state listener failed on '{}'", event, e);
      }
    }
  }

  /** {@return unavailable, naming Redis's address and the error, while Redis does not answer} */
  @Override
  public StoreHealth health() {
    return redis.problem().map(StoreHealth::unavailable).orElse(StoreHealth.healthy());
  }

  @Override
  public void close() {
    synchronized (subscriptionLock) {
      listeners.clear();
      if (subscription != null) {
        subscription.close();
        subscription = null;
      }
    }
    redis.close();
  }

  // ---- reading replies ----

  private <T> T run(String what, RedisScript script, ScriptOutputType type, byte[]... args) {
    return run(what, script, type, Arrays.asList(args));
  }

  private <T> T run(String what, RedisScript script, ScriptOutputType type, List<byte[]> args) {
    byte[][] all = new byte[args.size() + 1][];
    all[0] = prefixBytes;
    for (int i = 0; i < args.size(); i++) {
      all[i + 1] = args.get(i);
    }
    return redis.await(what, script.<T>run(redis.commands(), type, routing, all));
  }

  /**
   * Some fields of executions by id, read in one pipelined round, so that a claim or a stage is
   * read without the task it came with; executions without a stage (unknown, expired) are left out.
   */
  private Map<String, Map<String, byte[]>> fields(List<byte[]> ids, List<String> names) {
    byte[][] fields = names.stream().map(RedisScript::bytes).toArray(byte[][]::new);
    List<CompletableFuture<List<KeyValue<byte[], byte[]>>>> replies = new ArrayList<>();
    for (byte[] id : ids) {
      replies.add(redis.commands().hmget(key("x:" + text(id)), fields).toCompletableFuture());
    }
    Map<String, Map<String, byte[]>> found = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      Map<String, byte[]> values = new HashMap<>();
      for (KeyValue<byte[], byte[]> value : redis.await("reading executions", replies.get(i))) {
        if (value.hasValue()) {
          values.put(text(value.getKey()), value.getValue());
        }
      }
      if (values.containsKey("stage")) {
        found.put(text(ids.get(i)), values);
      }
    }
    return found;
  }

  private static Map<String, byte[]> hash(List<Object> flat) {
    Map<String, byte[]> fields = new HashMap<>();
    for (int i = 0; i + 1 < flat.size(); i += 2) {
      fields.put(text(flat.get(i)), (byte[]) flat.get(i + 1));
    }
    return fields;
  }

  private static QueuedExecution entry(String id, Map<String, byte[]> hash) {
    String lost = text(hash.get("lost"));
    return new QueuedExecution(
        id,
        text(hash.get("key")),
        text(hash.get("akey")),
        Integer.parseInt(text(hash.get("prio"))),
        Duration.ofMillis(Long.parseLong(text(hash.get("tmo")))),
        ByteString.copyFrom(hash.get("task")),
        Integer.parseInt(text(hash.get("att"))),
        lost.isEmpty() ? List.of() : List.of(lost.split("\n")),
        Instant.ofEpochMilli(Long.parseLong(text(hash.get("enq")))),
        text(hash.get("rq")).equals("1"));
  }

  private static Claim claim(String id, Map<String, byte[]> hash) {
    return claim(
        id,
        text(hash.get("w")),
        text(hash.get("s")),
        text(hash.get("att")),
        text(hash.get("cat")),
        text(hash.get("dl")));
  }

  private static Claim claim(
      String id, String worker, String server, String attempt, String at, String deadline) {
    return new Claim(
        id,
        worker,
        server,
        Integer.parseInt(attempt),
        Instant.ofEpochMilli(Long.parseLong(at)),
        deadline.isEmpty()
            ? Optional.empty()
            : Optional.of(Instant.ofEpochMilli(Long.parseLong(deadline))));
  }

  /** Claims from the scripts' flat form: id, worker, server, attempt, claimed at, deadline. */
  private static List<Claim> claims(List<Object> flat) {
    List<Claim> claims = new ArrayList<>();
    for (int i = 0; i + 5 < flat.size(); i += 6) {
      claims.add(
          claim(
              text(flat.get(i)),
              text(flat.get(i + 1)),
              text(flat.get(i + 2)),
              text(flat.get(i + 3)),
              text(flat.get(i + 4)),
              text(flat.get(i + 5))));
    }
    return claims;
  }

  private byte[] key(String suffix) {
    return bytes(prefix + suffix);
  }

  private static String text(Object value) {
    return value == null ? "" : new String((byte[]) value, StandardCharsets.UTF_8);
  }
}
