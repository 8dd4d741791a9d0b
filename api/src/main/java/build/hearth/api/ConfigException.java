package build.hearth.api;

/**
 * A configuration that cannot be used. The message starts with the JSON path of the offending field
 * (for example {@code blobStores.cas.maxSize}) and, when the configuration came from a file, its
 * line, so the user can go straight to it. Its code is always {@link StatusCode#INVALID_ARGUMENT}.
 *
 * <pre>{@code
 * blobStores.cas.maxSize (line 7): expected a size in bytes such as 1048576, "512MiB" or "10GB"
 * }</pre>
 *
 * <p>Storage plugins rarely construct one directly: {@code StoreSettings} in {@code hearth-spi}
 * builds them with the path and line filled in. The path and line never change.
 */
public final class ConfigException extends HearthException {
  private static final long serialVersionUID = 1L;

  /** The JSON path of the offending field; empty for the document as a whole. */
  private final String path;

  /** The 1-based line of the offending field, or 0 when unknown. */
  private final int line;

  /**
   * A problem with one field of a configuration, or with the whole document.
   *
   * @param path the JSON path of the field, such as {@code servers[0].listen}; empty for the root
   * @param line the 1-based line in the file, or 0 when unknown
   * @param problem what is wrong and, where possible, how to fix it
   */
  public ConfigException(String path, int line, String problem) {
    super(StatusCode.INVALID_ARGUMENT, describe(path, line, problem));
    this.path = path;
    this.line = line;
  }

  /** {@return the JSON path of the offending field; empty for the whole document} */
  public String path() {
    return path;
  }

  /** {@return the 1-based line of the offending field, or 0 when unknown} */
  public int line() {
    return line;
  }

  private static String describe(String path, int line, String problem) {
    if (path.isEmpty() && line == 0) {
      return problem; // about the file as a whole, such as one that cannot be read
    }
    StringBuilder sb = new StringBuilder();
    sb.append(path.isEmpty() ? "(root)" : path);
    if (line > 0) {
      sb.append(" (line ").append(line).append(')');
    }
    return sb.append(": ").append(problem).toString();
  }
}
