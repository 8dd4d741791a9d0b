package build.hearth.core.ops;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.api.ActionCache;
import build.hearth.api.Digest;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.Optional;

/**
 * Counts the lookups of an action cache that found a result or not. A lookup that fails counts as
 * neither: the caller sees the error.
 */
final class MeteredActionCache implements ActionCache {
  private final ActionCache delegate;
  private final CounterDataPoint hits;
  private final CounterDataPoint misses;

  MeteredActionCache(ActionCache delegate, CounterDataPoint hits, CounterDataPoint misses) {
    this.delegate = delegate;
    this.hits = hits;
    this.misses = misses;
  }

  @Override
  public Optional<ActionResult> get(Digest actionDigest) {
    Optional<ActionResult> result = delegate.get(actionDigest);
    (result.isPresent() ? hits : misses).inc();
    return result;
  }

  @Override
  public void put(Digest actionDigest, ActionResult result) {
    delegate.put(actionDigest, result);
  }

  @Override
  public String toString() {
    return "metered " + delegate;
  }
}
