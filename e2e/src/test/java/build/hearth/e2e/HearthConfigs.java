package build.hearth.e2e;

import build.hearth.core.config.HearthConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Hearth configurations for the end-to-end tests, written as a user would write them. */
final class HearthConfigs {
  /**
   * The platform properties the execution tests use: {@code OSFamily} as every Linux worker offers
   * it, and {@code pool} for the {@code exec_properties} of the workspace's pool targets.
   */
  private static final String SCHEDULER_PROPERTIES =
      "{\"OSFamily\": \"exact\", \"pool\": \"exact\"}";

  private HearthConfigs() {}

  /**
   * A cache-only Hearth: filesystem CAS and action cache under {@code storage}, one gRPC server on
   * a free loopback port serving the default (empty) instance name.
   */
  static HearthConfig filesystemCache(Path storage) {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s, "maxSize": "4GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": %s}},
          "servers": [
            {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
          ]
        }
        """
            .formatted(quoted(storage.resolve("cas")), quoted(storage.resolve("ac")));
    return HearthConfig.parse(json, "e2e filesystem cache");
  }

  /**
   * A Hearth that executes actions: filesystem CAS and action cache under {@code storage}, one
   * scheduler ({@code main}, matching {@code OSFamily} and {@code pool} exactly, actions waiting at
   * most {@code maxQueueTime}), the default instance executing on it, the given in-process workers,
   * and one gRPC server on a free loopback port on which worker processes may also connect. Action
   * timeouts default to 15 minutes.
   *
   * @param maxQueueTime how long an action may wait for a worker, in the configuration's syntax
   *     ({@code "2m"})
   */
  static HearthConfig remoteExecution(
      Path storage, String maxQueueTime, List<WorkerSetup> inProcessWorkers) {
    return remoteExecution(storage, maxQueueTime, inProcessWorkers, new String[0]);
  }

  /**
   * {@link #remoteExecution(Path, String, List)} with more members in each worker's object, such as
   * {@code "persistentWorkers": {...}}.
   */
  static HearthConfig remoteExecution(
      Path storage,
      String maxQueueTime,
      List<WorkerSetup> inProcessWorkers,
      String... extraWorkerMembers) {
    return HearthConfig.parse(
        remoteExecutionJson(
            storage, maxQueueTime, inProcessWorkers, "127.0.0.1:0", extraWorkerMembers),
        "e2e remote execution");
  }

  /**
   * The text of {@link #remoteExecution(Path, String, List, String...)}, its server listening on
   * {@code listen} ({@code "127.0.0.1:PORT"}), for a test that starts Hearth as its own process
   * with a configuration file.
   */
  static String remoteExecutionJson(
      Path storage,
      String maxQueueTime,
      List<WorkerSetup> inProcessWorkers,
      String listen,
      String... extraWorkerMembers) {
    List<String> members =
        new ArrayList<>(List.of("\"scheduler\": \"main\"", "\"instance\": \"\""));
    members.addAll(List.of(extraWorkerMembers));
    List<String> workers =
        inProcessWorkers.stream().map(w -> w.json(members.toArray(String[]::new))).toList();
    return """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s, "maxSize": "4GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": %s}},
          "schedulers": {
            "main": {"properties": %s, "maxQueueTime": %s, "maxRetries": 3}
          },
          "servers": [{
            "listen": %s,
            "workerApi": {"scheduler": "main"},
            "instances": {"": {
              "cas": "cas",
              "actionCache": "ac",
              "execution": {"scheduler": "main", "defaultTimeout": "15m", "maxTimeout": "1h"}
            }}
          }],
          "workers": [%s]
        }
        """
        .formatted(
            quoted(storage.resolve("cas")),
            quoted(storage.resolve("ac")),
            SCHEDULER_PROPERTIES,
            quoted(maxQueueTime),
            quoted(listen),
            String.join(",\n    ", workers));
  }

  /** {@code path} as a JSON string literal. */
  static String quoted(Path path) {
    return quoted(path.toString());
  }

  /** {@code text} as a JSON string literal (the tests' paths and names need no other escapes). */
  static String quoted(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
