package build.hearth.server;

import static build.hearth.server.JsonTree.decimal;
import static build.hearth.server.JsonTree.flag;
import static build.hearth.server.JsonTree.number;
import static build.hearth.server.JsonTree.object;
import static build.hearth.server.JsonTree.objects;
import static build.hearth.server.JsonTree.string;

import build.hearth.core.internal.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Turns the admin endpoint's JSON documents into the tables {@code hearth admin} prints. Missing
 * fields show as {@code -}, so an older or newer server still gives a readable table.
 */
final class AdminTables {
  private static final String NONE = "-";

  private AdminTables() {}

  /** The table of {@code /admin/v1/workers}: one row per persistent process, totals per worker. */
  static String workers(Map<String, Object> doc) {
    StringBuilder out = new StringBuilder();
    schedulerSummary(doc, out);
    List<Map<String, Object>> workers = objects(doc, "workers");
    if (workers.isEmpty()) {
      out.append("No workers have reported to this server.\n");
      return out.toString();
    }
    Table table =
        new Table("WORKER", "KEY", "TOOL", "PID", "STATE", "REQUESTS", "RSS", "AGE", "IDLE");
    for (Map<String, Object> worker : workers) {
      String name = string(worker, "name", NONE);
      Map<String, Object> pool = object(worker, "persistentWorkers");
      if (pool.isEmpty()) {
        table.row(name, NONE, NONE, NONE, "no persistent workers", NONE, NONE, NONE, NONE);
      }
      for (Map<String, Object> key : objects(pool, "keys")) {
        String clientKey = string(key, "clientKey", NONE);
        String tool = string(key, "tool", "");
        tool = tool.isEmpty() ? NONE : tool;
        List<Map<String, Object>> processes = objects(key, "processes");
        if (processes.isEmpty()) {
          table.row(name, clientKey, tool, NONE, "no processes", NONE, NONE, NONE, NONE);
        }
        for (Map<String, Object> process : processes) {
          long pid = number(process, "pid", 0);
          long rss = number(process, "residentBytes", -1);
          String state = string(process, "state", NONE);
          table.row(
              name,
              clientKey,
              tool,
              pid == 0 ? NONE : Long.toString(pid),
              state,
              Long.toString(number(process, "requests", 0)),
              rss < 0 ? NONE : bytes(rss),
              duration(decimal(process, "ageSeconds")),
              state.equals("idle") ? duration(decimal(process, "idleSeconds")) : NONE);
        }
      }
      table.footer(totals(worker, pool));
    }
    out.append(table.render());
    return out.toString();
  }

  /** The overview of {@code /admin/v1/status}: readiness, schedulers, stores, workers. */
  static String status(Map<String, Object> doc) {
    StringBuilder out = new StringBuilder();
    out.append("Hearth ")
        .append(string(doc, "version", "(unknown version)"))
        .append(", up ")
        .append(duration(decimal(doc, "uptimeSeconds")))
        .append(", ")
        .append(
            flag(doc, "ready")
                ? "ready"
                : "NOT READY: " + string(doc, "notReadyReason", "no reason given"))
        .append("\n\n");
    Table schedulers = new Table("SCHEDULER", "QUEUED", "EXECUTING", "WORKERS", "SLOTS", "BUSY");
    for (Map<String, Object> scheduler : objects(doc, "schedulers")) {
      schedulers.row(
          string(scheduler, "name", NONE),
          count(scheduler, "queued"),
          count(scheduler, "executing"),
          count(scheduler, "workers"),
          count(scheduler, "slots"),
          count(scheduler, "busySlots"));
    }
    out.append(schedulers.isEmpty() ? "No schedulers.\n" : schedulers.render()).append('\n');
    Table stores = new Table("STORE", "KIND", "ENTRIES", "SIZE", "CAPACITY", "EVICTIONS");
    for (Map<String, Object> store : objects(doc, "stores")) {
      String name = string(store, "name", NONE);
      String kind = string(store, "kind", NONE);
      if (store.containsKey("error")) {
        stores.row(name, kind, "unavailable: " + string(store, "error", ""), "", "", "");
        continue;
      }
      Object capacity = store.get("capacityBytes");
      stores.row(
          name,
          kind,
          count(store, "entries"),
          store.containsKey("sizeBytes") ? bytes(number(store, "sizeBytes", 0)) : NONE,
          capacity instanceof Number n ? bytes(n.longValue()) : "unbounded",
          count(store, "evictions"));
    }
    out.append(stores.isEmpty() ? "No stores.\n" : stores.render()).append('\n');
    Map<String, Object> workers = object(doc, "workers");
    out.append("Workers reporting: ")
        .append(count(workers, "reporting"))
        .append(" (")
        .append(count(workers, "withPersistentWorkers"))
        .append(" with persistent workers, ")
        .append(count(workers, "persistentProcesses"))
        .append(" persistent processes)\n");
    for (Map<String, Object> worker : objects(workers, "sandboxes")) {
      sandbox(worker, out);
    }
    return out.toString();
  }

  /**
   * One line per worker on what its sandbox does, then one per part the kernel refused, with the
   * reason: {@code " local (in-process): sandbox optional; in force: mount, pid; cgroups v1;
   * actions run as nobody (65534:65534)"}.
   */
  private static void sandbox(Map<String, Object> worker, StringBuilder out) {
    out.append("  ")
        .append(string(worker, "worker", NONE))
        .append(flag(worker, "remote") ? " (remote" : " (in-process")
        .append(flag(worker, "draining") ? ", draining): " : "): ");
    Map<String, Object> sandbox = object(worker, "sandbox");
    if (sandbox.isEmpty()) {
      out.append("sandbox not reported\n");
      return;
    }
    List<String> available = new ArrayList<>();
    if (sandbox.get("available") instanceof List<?> parts) {
      parts.forEach(part -> available.add(String.valueOf(part)));
    }
    out.append("sandbox ")
        .append(string(sandbox, "mode", NONE))
        .append("; in force: ")
        .append(available.isEmpty() ? "none" : String.join(", ", available))
        .append("; cgroups ")
        .append(string(sandbox, "cgroups", NONE))
        .append("; actions run as ")
        .append(string(sandbox, "actionUser", NONE))
        .append('\n');
    object(sandbox, "refused")
        .forEach(
            (part, reason) ->
                out.append("    refused ").append(part).append(": ").append(reason).append('\n'));
  }

  private static void schedulerSummary(Map<String, Object> doc, StringBuilder out) {
    List<Map<String, Object>> schedulers = objects(doc, "schedulers");
    for (Map<String, Object> scheduler : schedulers) {
      out.append("Scheduler ")
          .append(string(scheduler, "name", NONE))
          .append(": ")
          .append(count(scheduler, "workers"))
          .append(" workers connected, ")
          .append(count(scheduler, "busySlots"))
          .append(" of ")
          .append(count(scheduler, "slots"))
          .append(" slots busy, ")
          .append(count(scheduler, "queued"))
          .append(" actions queued\n");
    }
    if (!schedulers.isEmpty()) {
      out.append('\n');
    }
  }

  private static String totals(Map<String, Object> worker, Map<String, Object> pool) {
    StringBuilder line = new StringBuilder("  ").append(string(worker, "name", NONE)).append(": ");
    line.append(flag(worker, "remote") ? "remote" : "in-process")
        .append(", scheduler ")
        .append(string(worker, "scheduler", NONE));
    Double age = decimal(worker, "reportAgeSeconds");
    if (flag(worker, "remote") && age != null) {
      line.append(", reported ").append(duration(age)).append(" ago");
    }
    if (pool.isEmpty()) {
      return line.toString();
    }
    Map<String, Object> totals = object(pool, "totals");
    line.append("; pool totals: ")
        .append(count(pool, "alive"))
        .append(" processes (max ")
        .append(count(pool, "maxProcesses"))
        .append("), ")
        .append(count(totals, "requests"))
        .append(" requests (")
        .append(count(totals, "warmRequests"))
        .append(" warm, ")
        .append(count(totals, "coldRequests"))
        .append(" cold), ")
        .append(count(totals, "spawns"))
        .append(" spawns, ")
        .append(count(totals, "waitsAtCap"))
        .append(" waits at cap, retired: ");
    StringJoiner retired = new StringJoiner(", ");
    object(totals, "retirements")
        .forEach(
            (reason, count) -> {
              if (count instanceof Number n && n.longValue() > 0) {
                retired.add(reason + " " + n.longValue());
              }
            });
    line.append(retired.length() == 0 ? "none" : retired.toString());
    return line.toString();
  }

  private static String count(Map<String, Object> from, String field) {
    long value = number(from, field, Long.MIN_VALUE);
    return value == Long.MIN_VALUE ? NONE : Long.toString(value);
  }

  /** {@code bytes} in binary units: {@code 512 B}, {@code 1.5 KiB}, {@code 300.0 MiB}. */
  static String bytes(long bytes) {
    return Sizes.binary(bytes);
  }

  /** Seconds as {@code 45s}, {@code 10m05s}, {@code 2h03m} or {@code 3d04h}; {@code -} if null. */
  static String duration(Double seconds) {
    if (seconds == null) {
      return NONE;
    }
    long s = (long) Math.floor(Math.max(0, seconds));
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86400, s % 86400 / 3600);
  }

  /** Rows aligned in columns, each group of rows optionally followed by a free-form line. */
  private static final class Table {
    private final String[] header;
    // A String[] is a row; a String is a footer line, printed as is.
    private final List<Object> lines = new ArrayList<>();
    private final int[] widths;

    Table(String... header) {
      this.header = header;
      this.widths = new int[header.length];
      widen(header);
    }

    void row(String... cells) {
      lines.add(cells);
      widen(cells);
    }

    void footer(String line) {
      lines.add(line);
    }

    boolean isEmpty() {
      return lines.isEmpty();
    }

    private void widen(String[] cells) {
      for (int i = 0; i < cells.length; i++) {
        widths[i] = Math.max(widths[i], cells[i].length());
      }
    }

    String render() {
      StringBuilder out = new StringBuilder();
      append(header, out);
      for (Object line : lines) {
        if (line instanceof String[] cells) {
          append(cells, out);
        } else {
          out.append(line).append('\n');
        }
      }
      return out.toString();
    }

    private void append(String[] cells, StringBuilder out) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cells.length; i++) {
        line.append(cells[i]);
        if (i < cells.length - 1) {
          line.append(" ".repeat(widths[i] - cells[i].length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
  }
}
