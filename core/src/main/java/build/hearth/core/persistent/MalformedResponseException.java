package build.hearth.core.persistent;

/**
 * A tool process wrote something on stdout that is not a response. Checked, and separate from
 * {@link java.io.IOException}, so that the reader cannot mistake a broken protocol for a closed
 * pipe.
 */
final class MalformedResponseException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String problem;
  private final String quote;

  /**
   * @param problem what is wrong, such as {@code "a JSON object was expected, found 'hello'"}
   * @param quote the bytes read, escaped and bounded (see {@link RecordingInputStream#quote})
   */
  MalformedResponseException(String problem, String quote, Throwable cause) {
    super(problem + "; it read " + quote, cause);
    this.problem = problem;
    this.quote = quote;
  }

  String problem() {
    return problem;
  }

  String quote() {
    return quote;
  }
}
