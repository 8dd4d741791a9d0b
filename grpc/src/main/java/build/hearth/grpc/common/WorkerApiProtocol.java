package build.hearth.grpc.common;

/**
 * Rules of {@code hearth.worker.v1.WorkerApi} that the server's side of a worker stream and the
 * worker's side both apply, so that neither refers to the other's classes.
 */
public final class WorkerApiProtocol {
  private WorkerApiProtocol() {}

  /**
   * How many keep-alive intervals either side waits without hearing anything from the other before
   * it takes the other for dead and ends the stream.
   */
  public static final int MISSED_KEEP_ALIVES = 3;
}
