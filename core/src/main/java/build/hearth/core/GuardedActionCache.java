package build.hearth.core;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.api.ActionCache;
import build.hearth.api.Digest;
import java.util.Optional;

/** {@link Hearth#actionCache()}: the checked action cache, refusing every call once closed. */
final class GuardedActionCache implements ActionCache {
  private final ActionCache actionCache;
  private final Lifecycle lifecycle;

  GuardedActionCache(ActionCache actionCache, Lifecycle lifecycle) {
    this.actionCache = actionCache;
    this.lifecycle = lifecycle;
  }

  @Override
  public Optional<ActionResult> get(Digest actionDigest) {
    lifecycle.checkOpen();
    return actionCache.get(actionDigest);
  }

  @Override
  public void put(Digest actionDigest, ActionResult result) {
    lifecycle.checkOpen();
    actionCache.put(actionDigest, result);
  }

  @Override
  public String toString() {
    return "action cache of Hearth '" + lifecycle.name() + "'";
  }
}
