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
}
