package build.hearth.agent;

import build.hearth.core.execution.Cancellation;
import build.hearth.proto.workerapi.ActionFinished;

/**
 * An action this worker runs, and the stream that answers for it. Usually that is the stream it was
 * assigned on; when that stream ends and its server said it keeps a lost worker's actions ({@code
 * Registered.reattach_grace}), the action runs on with no stream (its answer, if it ends meanwhile,
 * is kept here) until a server of the service adopts it on a new stream, which then answers for it,
 * or until the grace passes and it is cancelled.
 *
 * <p>Thread-safe: the slot thread that runs it, the stream that ends and the stream that adopts it
 * meet here, under this object's lock.
 */
final class HeldAction {
  final String id;
  final Cancellation cancellation = new Cancellation();
  private AgentConnection home; // guarded by this; null while no stream answers for it
  private ActionFinished answer; // guarded by this; an answer that found no stream
  private long orphanedUntilMillis; // guarded by this

  HeldAction(String id, AgentConnection home) {
    this.id = id;
    this.home = home;
  }

  /**
   * The action ended with {@code finished}: {@return the stream to send it on, or null if none
   * answers for it now, in which case the answer is kept for the stream that adopts it}
   */
  synchronized AgentConnection finished(ActionFinished finished) {
    if (home == null) {
      answer = finished;
    }
    return home;
  }

  /**
   * Sending {@code finished} on {@code failed} failed, its stream ending: {@return the stream that
   * answers for it now, to send on instead, or null if the answer is kept for the next one}
   */
  synchronized AgentConnection sendFailed(AgentConnection failed, ActionFinished finished) {
    if (home == null || home == failed) {
      answer = finished;
      return null;
    }
    return home;
  }

  /** Its stream ended with the server keeping it: no stream answers for it until the deadline. */
  synchronized void orphan(AgentConnection ended, long untilMillis) {
    if (home == ended) {
      home = null;
      orphanedUntilMillis = untilMillis;
    }
  }

  /** {@return when, by the agent's clock, it is cancelled unless a server adopts it first} */
  synchronized long orphanedUntilMillis() {
    return orphanedUntilMillis;
  }

  /**
   * A new stream's server adopted it: {@code adopter} answers for it from now on. {@return the
   * answer that was kept while no stream answered for it, for {@code adopter} to send, or null}
   */
  synchronized ActionFinished adopt(AgentConnection adopter) {
    home = adopter;
    ActionFinished kept = answer;
    answer = null;
    return kept;
  }
}
