package build.hearth.spi.storage;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether a store can serve now, as its host's readiness check ({@code /readyz}) sees it: healthy,
 * or unavailable with a reason a user can act on, naming what the store depends on (for a Redis
 * store: the address and the error). Immutable.
 *
 * <pre>{@code
 * StoreHealth health = store.health();
 * if (!health.isHealthy()) {
 *   log.warn("store unavailable: {}", health.problem().orElseThrow());
 * }
 * }</pre>
 */
public final class StoreHealth {
  private static final StoreHealth HEALTHY = new StoreHealth(null);

  private final String problem; // null when healthy

  private StoreHealth(String problem) {
    this.problem = problem;
  }

  /** {@return a store that can serve} */
  public static StoreHealth healthy() {
    return HEALTHY;
  }

  /**
   * {@return a store that cannot serve now}
   *
   * @param problem why, naming what the store depends on and what to check; not blank
   */
  public static StoreHealth unavailable(String problem) {
    Objects.requireNonNull(problem, "problem");
    if (problem.isBlank()) {
      throw new IllegalArgumentException("an unavailable store's problem must not be blank");
    }
    return new StoreHealth(problem);
  }

  /**
   * {@return the health the store's {@code stats()} implies: healthy when it answers, unavailable
   * with the failure's message when it throws} The default of {@link BlobStore#health()} and {@link
   * ActionCacheStore#health()}.
   *
   * @param stats reads the store's statistics
   */
  static StoreHealth fromStats(Supplier<StoreStats> stats) {
    try {
      stats.get();
      return HEALTHY;
    } catch (RuntimeException e) {
      String message = e.getMessage();
      return unavailable(
          message == null || message.isBlank() ? e.getClass().getSimpleName() : message);
    }
  }

  /** {@return whether the store can serve} */
  public boolean isHealthy() {
    return problem == null;
  }

  /** {@return why the store cannot serve; empty when it can} */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StoreHealth h && Objects.equals(problem, h.problem);
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(problem);
  }

  @Override
  public String toString() {
    return problem == null ? "healthy" : "unavailable: " + problem;
  }
}
