package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a worker offers, read against the property types once: its properties in the platform
 * lexicon's spelling and the numbers of its {@link PropertyType#MINIMUM} properties. Decides
 * whether the worker meets a {@link Requirements.Key}, for a worker connected here and for one a
 * shared scheduler state lists. Immutable.
 */
final class WorkerOffer {
  private final WorkerSpec spec;
  // The largest value of each MINIMUM property.
  private final Map<String, BigDecimal> numbers;
  // The properties in the platform lexicon's spelling, for matching (see PlatformLexicon).
  private final Map<String, Set<String>> matched;

  private WorkerOffer(WorkerSpec spec, Map<String, BigDecimal> numbers) {
    this.spec = spec;
    this.numbers = Map.copyOf(numbers);
    this.matched = PlatformLexicon.canonical(spec).properties();
  }

  /**
   * Reads {@code spec} against {@code types}.
   *
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if a {@link PropertyType#MINIMUM}
   *     property of the worker has a value that is not a number
   */
  static WorkerOffer of(WorkerSpec spec, PropertyTypes types) {
    Map<String, BigDecimal> numbers = new HashMap<>();
    types
        .configured()
        .forEach(
            (name, type) -> {
              if (type == PropertyType.MINIMUM) {
                for (String value : spec.properties().getOrDefault(name, Set.of())) {
                  BigDecimal number =
                      PropertyTypes.number(name, value, "worker '" + spec.name() + "'");
                  numbers.merge(name, number, BigDecimal::max);
                }
              }
            });
    return new WorkerOffer(spec, numbers);
  }

  WorkerSpec spec() {
    return spec;
  }

  /** The worker's value of MINIMUM property {@code name}, or null if it has none. */
  BigDecimal number(String name) {
    return numbers.get(name);
  }

  /**
   * Whether the worker offers {@code value} of property {@code name}, comparing the lexicon's
   * spellings ({@code Linux} and {@code linux} are one {@code OSFamily}).
   */
  boolean offers(String name, String value) {
    Set<String> offered = matched.get(name);
    return offered != null && offered.contains(PlatformLexicon.canonical(name, value));
  }

  boolean satisfies(Requirements.Key key) {
    for (Map.Entry<String, Set<String>> required : key.exact().entrySet()) {
      for (String value : required.getValue()) {
        if (!offers(required.getKey(), value)) {
          return false;
        }
      }
    }
    for (Map.Entry<String, BigDecimal> required : key.minimum().entrySet()) {
      BigDecimal offered = numbers.get(required.getKey());
      if (offered == null || offered.compareTo(required.getValue()) < 0) {
        return false;
      }
    }
    return true;
  }
}
