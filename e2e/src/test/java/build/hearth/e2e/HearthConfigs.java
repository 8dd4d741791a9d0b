package build.hearth.e2e;

import build.hearth.core.config.HearthConfig;
import java.nio.file.Path;

/** Hearth configurations for the end-to-end tests, written as a user would write them. */
final class HearthConfigs {
  private HearthConfigs() {}

  /**
   * A cache-only Hearth: filesystem CAS and action cache under {@code storage}, one gRPC server on
   * a free loopback port serving the default (empty) instance name.
   */
  static HearthConfig filesystemCache(Path storage) {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": "%s", "maxSize": "4GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": "%s"}},
          "servers": [
            {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
          ]
        }
        """
            .formatted(jsonString(storage.resolve("cas")), jsonString(storage.resolve("ac")));
    return HearthConfig.parse(json, "e2e filesystem cache");
  }

  private static String jsonString(Path path) {
    return path.toString().replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
