package build.hearth.web;

import java.util.List;

/** What the templates show: plain values, formatted already, escaped by jte when written. */
final class Views {
  private Views() {}

  record Overview(
      boolean operations,
      List<SchedulerRow> schedulers,
      List<WorkerRow> workers,
      List<ToolRow> tools,
      List<CacheRow> caches,
      List<ActionRow> actions,
      String kept) {}

  record SchedulerRow(
      String name,
      int queued,
      int executing,
      int workers,
      int slots,
      int busy,
      long requeued,
      String waitP50,
      String waitP95,
      int waited) {}

  record WorkerRow(
      String name,
      String scheduler,
      String where,
      String slots,
      String busy,
      String properties,
      boolean draining,
      String sandbox,
      String age) {}

  record ToolRow(
      String worker,
      String key,
      String tool,
      String protocol,
      int alive,
      int idle,
      int busy,
      long requests,
      long warm,
      long cold,
      String retirements,
      List<String> processes) {}

  record CacheRow(String instance, long executions, long cached, String hitRate) {}

  record ActionRow(
      String link,
      String instance,
      String digest,
      String outcome,
      boolean ok,
      String duration,
      String queued,
      String worker,
      String process,
      String completedAt) {}

  record Pair(String name, String value) {}

  record Entry(String kind, String name, String size, String digest, String link) {}

  record Log(String name, String text, String link, String note) {}

  record Phase(String name, String start, String width, String duration) {}

  record Action(
      String instance,
      String digest,
      String outcome,
      boolean ok,
      String cached,
      String exitCode,
      String worker,
      String persistentWorker,
      String message,
      String problem,
      List<String> arguments,
      List<Pair> environment,
      List<Pair> platform,
      List<String> outputPaths,
      String workingDirectory,
      String timeout,
      String inputRootLink,
      List<Entry> inputs,
      List<Entry> outputs,
      List<Log> logs,
      List<Phase> phases) {}

  record Blob(
      String instance, String digest, String name, String text, String note, String rawLink) {}

  record Directory(String instance, String digest, String title, List<Entry> entries) {}

  record Tree(String instance, String digest, List<Directory> directories, String note) {}

  record Error(int status, String reason, String message) {}
}
