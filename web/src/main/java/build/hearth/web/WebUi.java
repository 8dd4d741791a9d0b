package build.hearth.web;

import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.HearthException;
import build.hearth.api.PoolStats;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.SchedulerStats;
import build.hearth.spi.security.Permission;
import build.hearth.spi.transport.HttpRoutes;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.StringOutput;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web UI's pages, served under {@code /ui/} on the server's HTTP port:
 *
 * <ul>
 *   <li>{@code /ui/}: the overview. Schedulers, workers and persistent workers need {@code metrics}
 *       (they are what {@code /metrics} shows); the recent actions and cache hit rates are those of
 *       the instances the caller may {@code read}.
 *   <li>{@code /ui/action/<hash>/<size>?instance=<name>}: an action, its command, inputs, result,
 *       logs and timeline; {@code read} on the instance.
 *   <li>{@code /ui/blob/...}, {@code /ui/raw/...}, {@code /ui/directory/...}, {@code /ui/tree/...}:
 *       a blob shown as text or offered for download, a {@code Directory}, a {@code Tree}; {@code
 *       read} on the instance.
 * </ul>
 *
 * Paths and queries are hostile: digests are parsed strictly, unknown query names refused, blobs
 * read up to fixed caps, and every value is escaped by jte's HTML output. A caller without the
 * permission gets 403; an unknown instance, action or blob 404.
 *
 * <p>Thread-safe. Pages read in-memory snapshots and the CAS: reads of at most a few MiB, bounded
 * per page. With an {@linkplain Builder#executor executor} (the server gives it a {@link
 * PagePool}), every page is its {@linkplain #blockingExecutor blocking executor's} work, so the
 * transport renders it there and not on its I/O thread.
 */
public final class WebUi implements HttpRoutes {
  private static final Logger log = LoggerFactory.getLogger(WebUi.class);
  static final String HTML = "text/html; charset=utf-8";

  /** The most recent actions the overview lists. */
  static final int OVERVIEW_ACTIONS = 100;

  private final TemplateEngine templates =
      TemplateEngine.createPrecompiled(
          null, ContentType.Html, WebUi.class.getClassLoader(), "build.hearth.web");
  private final RecentActions recent;
  private final ActionLinks links;
  private final Map<String, Scheduler<?, ?>> schedulers;
  private final WorkerReports reports;
  private final ActionPages pages;
  private final Clock clock;
  private final Optional<Executor> executor;

  private WebUi(Builder builder) {
    this.recent = builder.recent;
    this.links = builder.links;
    this.schedulers = new LinkedHashMap<>(builder.schedulers);
    this.reports = builder.reports;
    this.clock = builder.clock;
    this.executor = Optional.ofNullable(builder.executor);
    this.pages = new ActionPages(builder.instances, recent, links);
  }

  /**
   * A builder of pages over {@code recent}, linking under {@code links}.
   *
   * @param recent the recorder the execution services feed
   * @param links the pages' addresses
   * @return a builder with no instances, schedulers or workers
   */
  public static Builder newBuilder(RecentActions recent, ActionLinks links) {
    return new Builder(recent, links);
  }

  @Override
  public boolean checksAccess(String path) {
    return path.equals(ActionLinks.PREFIX) || path.startsWith(ActionLinks.PREFIX + "/");
  }

  /** Every page reads the CAS or renders many rows: each runs on the executor, if there is one. */
  @Override
  public Optional<Executor> blockingExecutor(String path) {
    return checksAccess(path) ? executor : Optional.empty();
  }

  /** Without a caller (a transport that does not check access), the pages show nothing. */
  @Override
  public Optional<Response> get(String path, String query) {
    return get(
        path,
        query,
        new Caller() {
          @Override
          public boolean allowed(Permission permission, String instanceName) {
            return false;
          }

          @Override
          public boolean authenticated() {
            return false;
          }
        });
  }

  @Override
  public Optional<Response> get(String path, String query, Caller caller) {
    if (!checksAccess(path)) {
      return Optional.empty();
    }
    try {
      PageRequest request = PageRequest.parse(path, query);
      if (request.kind().isEmpty()) {
        return Optional.of(html(200, "overview", overview(caller)));
      }
      String instance = request.instance();
      if (!pages.serves(instance)) {
        return Optional.of(error(404, "no instance '" + PageRequest.cut(instance) + "' here"));
      }
      if (!caller.allowed(Permission.READ, instance)) {
        return Optional.of(
            error(
                caller.authenticated() ? 403 : 401,
                "this page needs the read permission on instance '"
                    + PageRequest.cut(instance)
                    + "', which your identity does not hold"));
      }
      var digest = request.digest().orElseThrow();
      return Optional.of(
          switch (request.kind()) {
            case "action" -> html(200, "action", pages.action(instance, digest));
            case "blob" ->
                html(200, "blob", pages.blob(instance, digest, request.query().get("name")));
            case "raw" -> pages.raw(instance, digest);
            case "directory" -> html(200, "directory", pages.directory(instance, digest));
            case "tree" -> html(200, "tree", pages.tree(instance, digest));
            default ->
                error(
                    404,
                    "no page kind '"
                        + PageRequest.cut(request.kind())
                        + "'; known: action, blob, raw, directory, tree");
          });
    } catch (PageRequest.BadRequest e) {
      return Optional.of(error(400, e.getMessage()));
    } catch (HearthException e) {
      int status =
          switch (e.code()) {
            case NOT_FOUND -> 404;
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            default -> 500;
          };
      return Optional.of(error(status, e.getMessage()));
    }
  }

  private Views.Overview overview(Caller caller) {
    boolean operations = caller.allowed(Permission.METRICS, "");
    List<Views.SchedulerRow> schedulerRows = new ArrayList<>();
    List<Views.WorkerRow> workerRows = new ArrayList<>();
    List<Views.ToolRow> toolRows = new ArrayList<>();
    if (operations) {
      Map<String, Scheduler.WorkerSnapshot> connected = new LinkedHashMap<>();
      Map<String, String> schedulerOf = new LinkedHashMap<>();
      schedulers.forEach(
          (name, scheduler) -> {
            for (Scheduler.WorkerSnapshot worker : scheduler.workers()) {
              connected.put(worker.spec().name(), worker);
              schedulerOf.put(worker.spec().name(), name);
            }
          });
      Map<String, WorkerReports.Report> reported = reports.snapshot();
      reported.values().forEach(r -> schedulerOf.putIfAbsent(r.worker(), r.scheduler()));
      Map<String, WaitTimes> waits =
          WaitTimes.bySchedulerOf(recent.newest(recent.maxActions(), i -> true), schedulerOf);
      schedulers.forEach(
          (name, scheduler) -> {
            SchedulerStats s = scheduler.stats();
            WaitTimes wait = waits.getOrDefault(name, WaitTimes.NONE);
            schedulerRows.add(
                new Views.SchedulerRow(
                    name,
                    s.queued(),
                    s.executing(),
                    s.workers(),
                    s.slots(),
                    s.busySlots(),
                    s.requeued(),
                    wait.p50(),
                    wait.p95(),
                    wait.count()));
          });
      Instant now = clock.instant();
      for (WorkerReports.Report report : reported.values()) {
        Scheduler.WorkerSnapshot worker = connected.remove(report.worker());
        workerRows.add(
            new Views.WorkerRow(
                report.worker(),
                report.scheduler(),
                report.remote() ? "remote" : "in-process",
                worker == null ? "-" : Integer.toString(worker.spec().slots()),
                worker == null ? "-" : Integer.toString(worker.busySlots()),
                worker == null ? "not connected" : Format.properties(worker.spec()),
                report.draining() || (worker != null && worker.draining()),
                report.sandbox().map(Format::sandbox).orElse("not reported"),
                Format.duration(Duration.between(report.reportedAt(), now)) + " ago"));
        report.persistentWorkers().ifPresent(pool -> tools(report.worker(), pool, now, toolRows));
      }
      // Connected but not (yet) reported: the scheduler's view alone.
      connected.forEach(
          (name, worker) ->
              workerRows.add(
                  new Views.WorkerRow(
                      name,
                      schedulerOf.get(name),
                      "-",
                      Integer.toString(worker.spec().slots()),
                      Integer.toString(worker.busySlots()),
                      Format.properties(worker.spec()),
                      worker.draining(),
                      "not reported",
                      "never")));
    }
    List<Views.CacheRow> caches = new ArrayList<>();
    for (String instance : pages.instances()) {
      if (caller.allowed(Permission.READ, instance)) {
        long[] counts = recent.executions(instance);
        caches.add(
            new Views.CacheRow(
                Format.instance(instance),
                counts[0],
                counts[1],
                counts[0] == 0 ? "-" : Math.round(100.0 * counts[1] / counts[0]) + " %"));
      }
    }
    List<Views.ActionRow> actions = new ArrayList<>();
    for (RecordedAction action :
        recent.newest(OVERVIEW_ACTIONS, i -> caller.allowed(Permission.READ, i))) {
      actions.add(Format.actionRow(action, links));
    }
    String kept =
        recent.size()
            + " of at most "
            + recent.maxActions()
            + " actions kept, "
            + Format.bytes(recent.retainedBytes())
            + " of "
            + Format.bytes(recent.maxBytes());
    return new Views.Overview(
        operations, schedulerRows, workerRows, toolRows, caches, actions, kept);
  }

  private static void tools(String worker, PoolStats pool, Instant now, List<Views.ToolRow> rows) {
    for (PoolStats.KeyStats key : pool.keys()) {
      List<String> processes = new ArrayList<>();
      for (PoolStats.ProcessStats p : key.processes()) {
        processes.add(
            "pid "
                + p.pid()
                + " "
                + p.state().name().toLowerCase(java.util.Locale.ROOT)
                + ", "
                + p.requests()
                + " requests, "
                + (p.residentBytes().isPresent()
                    ? Format.bytes(p.residentBytes().getAsLong())
                    : "?")
                + ", age "
                + Format.duration(Duration.between(p.started(), now))
                + ", idle "
                + Format.duration(Duration.between(p.lastUsed(), now)));
      }
      StringBuilder retirements = new StringBuilder();
      key.counters()
          .retirements()
          .forEach(
              (reason, count) -> {
                if (count > 0) {
                  retirements.append(retirements.length() == 0 ? "" : ", ");
                  retirements.append(reason.name().toLowerCase(java.util.Locale.ROOT));
                  retirements.append(' ').append(count);
                }
              });
      rows.add(
          new Views.ToolRow(
              worker,
              key.clientKey(),
              key.tool(),
              key.protocol().name().toLowerCase(java.util.Locale.ROOT),
              key.alive(),
              key.idle(),
              key.busy(),
              key.counters().requests(),
              key.counters().warmRequests(),
              key.counters().coldRequests(),
              retirements.length() == 0 ? "none" : retirements.toString(),
              processes));
    }
  }

  private Response html(int status, String template, Object model) {
    StringOutput out = new StringOutput(8192);
    templates.render(template + ".jte", model, out);
    return new Response(
        status, HTML, out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private Response error(int status, String message) {
    String reason =
        switch (status) {
          case 400 -> "Bad request";
          case 401 -> "Unauthorized: send your token as authorization: Bearer";
          case 403 -> "Forbidden";
          case 404 -> "Not found";
          default -> "Server error";
        };
    if (status >= 500) {
      log.warn("A web UI page failed: {}", message);
    }
    return html(status, "error", new Views.Error(status, reason, message));
  }

  /** Builds a {@link WebUi}. Not thread-safe. */
  public static final class Builder {
    private final RecentActions recent;
    private final ActionLinks links;
    private final Map<String, Scheduler<?, ?>> schedulers = new LinkedHashMap<>();
    private final Map<String, ActionPages.Instance> instances = new LinkedHashMap<>();
    private WorkerReports reports;
    private Clock clock = Clock.systemUTC();
    private Executor executor; // null: on the transport's thread

    private Builder(RecentActions recent, ActionLinks links) {
      this.recent = Objects.requireNonNull(recent, "recent");
      this.links = Objects.requireNonNull(links, "links");
    }

    /**
     * Shows an instance's actions and blobs.
     *
     * @param name the instance's name
     * @param cas its CAS
     * @param actionCache its action cache, if it has one
     * @return this builder
     */
    public Builder instance(
        String name, ContentAddressableStorage cas, Optional<ActionCache> actionCache) {
      instances.put(name, new ActionPages.Instance(cas, actionCache));
      return this;
    }

    /**
     * Shows a scheduler's queue and slots on the overview.
     *
     * @param name the scheduler's name
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(String name, Scheduler<?, ?> scheduler) {
      schedulers.put(name, Objects.requireNonNull(scheduler, "scheduler"));
      return this;
    }

    /**
     * Shows the workers' reports (and their persistent workers) on the overview.
     *
     * @param reports the reports /admin shows
     * @return this builder
     */
    public Builder workerReports(WorkerReports reports) {
      this.reports = Objects.requireNonNull(reports, "reports");
      return this;
    }

    /**
     * The clock ages and idle times are measured with; the UTC clock by default.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The executor the transport renders the pages on ({@link HttpRoutes#blockingExecutor}), such
     * as a {@link PagePool}; without one, pages render on the transport's I/O thread, which suits
     * tests and stores in memory only. The caller owns it and closes it after the transport.
     *
     * @param executor the executor, which may refuse work when full
     * @return this builder
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** {@return the pages} */
    public WebUi build() {
      if (reports == null) {
        reports = new WorkerReports(clock);
      }
      return new WebUi(this);
    }
  }
}
