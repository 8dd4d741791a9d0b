package build.hearth.core.sandbox.crossing;

/**
 * A deliberately crossed layer (core.sandbox reaching the worker above it), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class SandboxUsingTheWorker {
  private SandboxUsingTheWorker() {}

  static Object worker() {
    return build.hearth.core.worker.LocalActionRunner.newBuilder();
  }
}
