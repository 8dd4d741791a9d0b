package build.hearth.core.ops;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerStats;
import build.hearth.spi.storage.StoreHealth;
import build.hearth.spi.storage.StoreStats;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Writes the two admin documents. Field names are an interface (the {@code hearth admin} command
 * and operators' scripts read them): add fields, never rename or remove one. Durations are seconds
 * with millisecond precision; instants are ISO-8601 UTC; an unknown or unbounded value is {@code
 * null}.
 *
 * <p>One instance writes one document; not thread-safe.
 */
final class AdminJson implements Closeable {
  // Immutable once built; safe to share between servers.
  private static final JsonFactory FACTORY = new JsonFactory();

  /**
   * A store as the admin endpoint shows it; {@code kind} is {@code cas} or {@code action_cache}.
   */
  record Store(String name, String kind, Supplier<StoreStats> stats, Supplier<StoreHealth> health) {
    /** Reads the statistics once; a store that throws is read as its failure. */
    Reading read() {
      try {
        return new Reading(this, stats.get(), null);
      } catch (RuntimeException e) {
        return new Reading(this, null, e);
      }
    }
  }

  /** One read of a store's statistics: {@code stats}, or the {@code failure} the read threw. */
  record Reading(Store store, StoreStats stats, RuntimeException failure) {}

  private final JsonGenerator out;

  private AdminJson(JsonGenerator out) {
    this.out = out;
  }

  static AdminJson open(OutputStream bytes, boolean pretty) throws IOException {
    JsonGenerator generator = FACTORY.createGenerator(bytes, JsonEncoding.UTF8);
    if (pretty) {
      generator.useDefaultPrettyPrinter();
    }
    return new AdminJson(generator);
  }

  @Override
  public void close() throws IOException {
    out.close();
  }

  void status(
      String version,
      Instant startedAt,
      Instant now,
      Optional<String> notReady,
      Map<String, Scheduler<?, ?>> schedulers,
      List<Reading> stores,
      Map<String, WorkerReports.Report> reports)
      throws IOException {
    out.writeStartObject();
    out.writeStringField("version", version);
    out.writeStringField("startedAt", startedAt.toString());
    seconds("uptimeSeconds", Duration.between(startedAt, now));
    out.writeBooleanField("ready", notReady.isEmpty());
    if (notReady.isPresent()) {
      out.writeStringField("notReadyReason", notReady.get());
    }
    schedulers(schedulers);
    out.writeArrayFieldStart("stores");
    for (Reading store : stores) {
      store(store);
    }
    out.writeEndArray();
    int processes = 0;
    int withPools = 0;
    for (WorkerReports.Report report : reports.values()) {
      if (report.persistentWorkers().isPresent()) {
        withPools++;
        processes += report.persistentWorkers().get().alive();
      }
    }
    out.writeObjectFieldStart("workers");
    out.writeNumberField("reporting", reports.size());
    out.writeNumberField("withPersistentWorkers", withPools);
    out.writeNumberField("persistentProcesses", processes);
    // What each worker's sandbox does: the part an operator checks first when actions misbehave.
    out.writeArrayFieldStart("sandboxes");
    for (WorkerReports.Report report : reports.values()) {
      out.writeStartObject();
      out.writeStringField("worker", report.worker());
      out.writeBooleanField("remote", report.remote());
      out.writeBooleanField("draining", report.draining());
      sandbox(report.sandbox());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeEndObject();
    out.writeEndObject();
  }

  /** The field {@code sandbox}: the worker's report, or null when it sent none. */
  private void sandbox(Optional<WorkerReports.Sandbox> report) throws IOException {
    out.writeFieldName("sandbox");
    if (report.isEmpty()) {
      out.writeNull();
      return;
    }
    WorkerReports.Sandbox sandbox = report.get();
    out.writeStartObject();
    out.writeStringField("mode", sandbox.mode());
    out.writeArrayFieldStart("available");
    for (String part : sandbox.available()) {
      out.writeString(part);
    }
    out.writeEndArray();
    out.writeObjectFieldStart("refused");
    for (Map.Entry<String, String> refusal : sandbox.refused().entrySet()) {
      out.writeStringField(refusal.getKey(), refusal.getValue());
    }
    out.writeEndObject();
    out.writeStringField("cgroups", sandbox.cgroups());
    out.writeStringField("actionUser", sandbox.actionUser());
    out.writeEndObject();
  }

  void workers(
      Instant now, Map<String, Scheduler<?, ?>> schedulers, Map<String, WorkerReports.Report> all)
      throws IOException {
    out.writeStartObject();
    out.writeStringField("takenAt", now.toString());
    schedulers(schedulers);
    out.writeArrayFieldStart("workers");
    for (WorkerReports.Report report : all.values()) {
      out.writeStartObject();
      out.writeStringField("name", report.worker());
      out.writeStringField("scheduler", report.scheduler());
      out.writeBooleanField("remote", report.remote());
      out.writeBooleanField("draining", report.draining());
      out.writeStringField("reportedAt", report.reportedAt().toString());
      seconds("reportAgeSeconds", Duration.between(report.reportedAt(), now));
      out.writeFieldName("persistentWorkers");
      if (report.persistentWorkers().isPresent()) {
        pool(report.persistentWorkers().get());
      } else {
        out.writeNull();
      }
      sandbox(report.sandbox());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeEndObject();
  }

  private void schedulers(Map<String, Scheduler<?, ?>> schedulers) throws IOException {
    out.writeArrayFieldStart("schedulers");
    for (Map.Entry<String, Scheduler<?, ?>> entry : schedulers.entrySet()) {
      SchedulerStats stats = entry.getValue().stats();
      out.writeStartObject();
      out.writeStringField("name", entry.getKey());
      out.writeNumberField("queued", stats.queued());
      out.writeNumberField("executing", stats.executing());
      out.writeNumberField("workers", stats.workers());
      out.writeNumberField("slots", stats.slots());
      out.writeNumberField("busySlots", stats.busySlots());
      out.writeNumberField("requeued", stats.requeued());
      out.writeEndObject();
    }
    out.writeEndArray();
  }

  private void store(Reading reading) throws IOException {
    out.writeStartObject();
    out.writeStringField("name", reading.store().name());
    out.writeStringField("kind", reading.store().kind());
    if (reading.failure() != null) {
      // A closed store throws; the document still describes the rest of the server.
      out.writeStringField("error", String.valueOf(reading.failure().getMessage()));
      out.writeEndObject();
      return;
    }
    StoreStats stats = reading.stats();
    out.writeNumberField("entries", stats.entries());
    out.writeNumberField("sizeBytes", stats.sizeBytes());
    out.writeFieldName("capacityBytes");
    if (stats.capacityBytes() == Long.MAX_VALUE) {
      out.writeNull();
    } else {
      out.writeNumber(stats.capacityBytes());
    }
    out.writeNumberField("evictions", stats.evictions());
    out.writeNumberField("evictedBytes", stats.evictedBytes());
    out.writeEndObject();
  }

  private void pool(PoolStats pool) throws IOException {
    out.writeStartObject();
    out.writeStringField("takenAt", pool.takenAt().toString());
    out.writeNumberField("maxProcesses", pool.maxProcesses());
    out.writeNumberField("alive", pool.alive());
    out.writeNumberField("maxAlive", pool.maxAlive());
    out.writeNumberField("waiting", pool.waiting());
    out.writeFieldName("totals");
    counters(pool.totals());
    out.writeArrayFieldStart("keys");
    for (KeyStats key : pool.keys()) {
      key(key, pool.takenAt());
    }
    out.writeEndArray();
    out.writeEndObject();
  }

  private void key(KeyStats key, Instant takenAt) throws IOException {
    out.writeStartObject();
    out.writeStringField("clientKey", key.clientKey());
    out.writeStringField("tool", key.tool());
    out.writeStringField("fingerprint", key.fingerprint());
    out.writeStringField("protocol", key.protocol().label());
    out.writeBooleanField("multiplex", key.multiplex());
    if (key.limits() != null) {
      limits(key.limits());
    }
    out.writeNumberField("starting", key.starting());
    out.writeNumberField("idle", key.idle());
    out.writeNumberField("busy", key.busy());
    out.writeNumberField("retiring", key.retiring());
    out.writeNumberField("alive", key.alive());
    out.writeNumberField("waiting", key.waiting());
    out.writeNumberField("maxAlive", key.maxAlive());
    out.writeFieldName("counters");
    counters(key.counters());
    out.writeArrayFieldStart("processes");
    for (ProcessStats process : key.processes()) {
      process(process, takenAt);
    }
    out.writeEndArray();
    out.writeEndObject();
  }

  private void limits(PoolLimits limits) throws IOException {
    out.writeObjectFieldStart("limits");
    out.writeNumberField("maxProcessesPerKey", limits.maxProcessesPerKey());
    out.writeNumberField("maxRequestsPerProcess", limits.maxRequestsPerProcess());
    out.writeNumberField("memoryLimitBytes", limits.memoryLimitBytes());
    seconds("idleTimeoutSeconds", limits.idleTimeout());
    out.writeNumberField("maxInFlightPerMultiplexProcess", limits.maxInFlightPerMultiplexProcess());
    out.writeStringField("atCapacity", limits.atCapacity().name().toLowerCase(Locale.ROOT));
    out.writeEndObject();
  }

  private void counters(Counters counters) throws IOException {
    out.writeStartObject();
    out.writeNumberField("spawns", counters.spawns());
    out.writeNumberField("startFailures", counters.startFailures());
    out.writeNumberField("requests", counters.requests());
    out.writeNumberField("warmRequests", counters.warmRequests());
    out.writeNumberField("coldRequests", counters.coldRequests());
    out.writeNumberField("waitsAtCap", counters.waitsAtCap());
    out.writeNumberField("oneShotRuns", counters.oneShotRuns());
    out.writeNumberField("evictions", counters.evictions());
    out.writeNumberField("idleRestarts", counters.idleRestarts());
    out.writeObjectFieldStart("retirements");
    for (RetirementReason reason : RetirementReason.values()) {
      out.writeNumberField(reason.label(), counters.retired(reason));
    }
    out.writeEndObject();
    out.writeNumberField("retiredTotal", counters.retiredTotal());
    out.writeNumberField("latencyCount", counters.latencyCount());
    seconds("latencySumSeconds", counters.latencySum());
    seconds("meanLatencySeconds", counters.meanLatency());
    out.writeEndObject();
  }

  private void process(ProcessStats process, Instant takenAt) throws IOException {
    out.writeStartObject();
    out.writeNumberField("pid", process.pid());
    out.writeStringField("state", process.state().name().toLowerCase(Locale.ROOT));
    out.writeNumberField("inFlight", process.inFlight());
    out.writeNumberField("requests", process.requests());
    out.writeFieldName("residentBytes");
    if (process.residentBytes().isPresent()) {
      out.writeNumber(process.residentBytes().getAsLong());
    } else {
      out.writeNull();
    }
    out.writeStringField("startedAt", process.started().toString());
    out.writeStringField("lastUsedAt", process.lastUsed().toString());
    // Both measured against the snapshot's own time, on the worker's clock, so that a remote
    // worker's clock skew does not distort them.
    seconds("ageSeconds", Duration.between(process.started(), takenAt));
    seconds(
        "idleSeconds",
        process.state() == ProcessState.IDLE
            ? Duration.between(process.lastUsed(), takenAt)
            : Duration.ZERO);
    out.writeStringField("directory", String.valueOf(process.directory()));
    out.writeFieldName("retiringFor");
    if (process.retiringFor().isPresent()) {
      out.writeString(process.retiringFor().get().label());
    } else {
      out.writeNull();
    }
    out.writeEndObject();
  }

  /** Writes {@code duration} as seconds with three decimals; negative durations (skew) as 0. */
  private void seconds(String field, Duration duration) throws IOException {
    long millis = duration.isNegative() ? 0 : duration.toMillis();
    out.writeNumberField(field, BigDecimal.valueOf(millis, 3));
  }
}
