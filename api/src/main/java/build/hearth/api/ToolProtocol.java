package build.hearth.api;

import java.util.Locale;

/** How requests and responses travel on a persistent worker's stdin and stdout. */
public enum ToolProtocol {
  /** Varint-length-delimited {@code WorkRequest}/{@code WorkResponse} protobuf messages. */
  PROTO,
  /** Proto3 JSON objects with camelCase field names, one per message. */
  JSON;

  /**
   * Reads the value of the {@code persistentWorkerProtocol} platform property: {@code proto},
   * {@code protobuf} and an empty or missing value mean {@link #PROTO}; {@code json} means {@link
   * #JSON}; case is ignored.
   *
   * @param value the property value, or null when the action does not set it
   * @return the protocol it names
   * @throws HearthException INVALID_ARGUMENT for any other value, naming the accepted ones
   */
  public static ToolProtocol fromProperty(String value) {
    if (value == null || value.isEmpty()) {
      return PROTO;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "proto", "protobuf" -> PROTO;
      case "json" -> JSON;
      default ->
          throw HearthException.invalidArgument(
              "platform property persistentWorkerProtocol is '%s'; use 'proto' (or 'protobuf')"
                  + " or 'json'",
              value);
    };
  }

  /** {@return the name used in configuration, logs and metrics: {@code proto} or {@code json}} */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
