package build.hearth.core.persistent;

import java.util.ArrayList;
import java.util.List;

/**
 * What a pool operation decided under the lock and carries out after releasing it: log lines,
 * handing retirements to the retirement executor, and telling idle listeners. Confined to the
 * thread of one operation.
 */
final class PoolEffects {
  private final List<Runnable> actions = new ArrayList<>();
  private boolean idleChanged;

  void add(Runnable action) {
    actions.add(action);
  }

  /** Notes that the number of processes able to take a request may have changed. */
  void idleChanged() {
    idleChanged = true;
  }

  boolean isIdleChanged() {
    return idleChanged;
  }

  /** Runs the actions in the order they were added; call it with no lock held. */
  void runActions() {
    for (Runnable action : actions) {
      action.run();
    }
  }
}
