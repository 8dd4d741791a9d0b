package build.hearth.core.config;

import build.hearth.api.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Shared helpers for the configuration tests. */
final class ConfigTestSupport {
  private ConfigTestSupport() {}

  /** Parses {@code json}, which must fail, and returns the failure. */
  static ConfigException errorOf(String json) {
    try {
      HearthConfig config = HearthConfig.parse(json, "test.json");
      throw new AssertionError("expected a ConfigException, but it parsed to " + config);
    } catch (ConfigException e) {
      return e;
    }
  }

  /** A test resource under {@code config/}, as text. */
  static String resource(String name) {
    try (InputStream in = ConfigTestSupport.class.getResourceAsStream("/config/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource config/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A configuration with one memory store "cas" and one server whose instances are given. */
  static String withInstances(String instances) {
    return """
           {
             "blobStores": { "cas": { "type": "memory" } },
             "actionCacheStores": { "ac": { "type": "memory" } },
             "servers": [
               {
                 "listen": "127.0.0.1:0",
                 "instances": %s
               }
             ]
           }
           """
        .formatted(instances);
  }

  /**
   * A configuration with one server that has the field {@code key} set to {@code json} on line 6,
   * and otherwise a listen address and one instance.
   */
  static String withServerField(String key, String json) {
    String listen = key.equals("listen") ? "" : ",\n      \"listen\": \"127.0.0.1:0\"";
    return """
           {
             "blobStores": { "cas": { "type": "memory" } },
             "servers": [
               {
                 "instances": { "": { "cas": "cas" } },
                 "%s": %s%s
               }
             ]
           }
           """
        .formatted(key, json, listen);
  }

  /** A configuration whose scheduler "main" is {@code scheduler}, starting on line 3. */
  static String withScheduler(String scheduler) {
    return """
           {
             "schedulers": {
               "main": %s
             },
             "blobStores": { "cas": { "type": "memory" } },
             "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
           }
           """
        .formatted(scheduler);
  }

  /**
   * A configuration with schedulers "main" and "batch" whose default instance has the execution
   * object {@code execution}, starting on line 7.
   */
  static String withExecution(String execution) {
    return """
           {
             "blobStores": { "cas": { "type": "memory" } },
             "schedulers": { "main": {}, "batch": {} },
             "servers": [
               { "listen": "127.0.0.1:0",
                 "instances": {
                   "": { "cas": "cas", "execution": %s } } }
             ]
           }
           """
        .formatted(execution);
  }

  /**
   * A configuration with the scheduler "main" (OSFamily exact, cpu_count minimum, pool priority),
   * one server whose instances "" and "ci" execute on it, and {@code workers} as its "workers",
   * starting on line 11.
   */
  static String withWorkers(String workers) {
    return """
           {
             "blobStores": { "cas": { "type": "memory" } },
             "schedulers": {
               "main": { "properties": { "OSFamily": "exact", "cpu_count": "minimum", "pool": "priority" } }
             },
             "servers": [
               { "listen": "127.0.0.1:0",
                 "instances": { "": { "cas": "cas", "execution": { "scheduler": "main" } },
                                "ci": { "cas": "cas" } } }
             ],
             "workers": %s
           }
           """
        .formatted(workers);
  }
}
