package build.hearth.core.scheduler;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An action's platform read against the property types: what a worker must offer ({@link #key()})
 * and what it should preferably offer. Immutable.
 */
final class Requirements {
  private static final int MAX_LISTED = 10;

  // Platforms come from clients: bound what one action may name.
  static final int MAX_PROPERTIES = PlatformLexicon.MAX_PROPERTIES;
  static final int MAX_NAME_LENGTH = PlatformLexicon.MAX_NAME_LENGTH;
  static final int MAX_VALUE_LENGTH = PlatformLexicon.MAX_VALUE_LENGTH;

  /**
   * The required part of a platform. Actions with equal keys can run on exactly the same workers,
   * so they share one queue.
   */
  record Key(SortedMap<String, Set<String>> exact, SortedMap<String, BigDecimal> minimum) {
    String describe() {
      List<String> parts = new ArrayList<>();
      exact.forEach((name, values) -> values.forEach(value -> parts.add(name + "=" + value)));
      minimum.forEach((name, bound) -> parts.add(name + ">=" + bound.toPlainString()));
      return parts.isEmpty() ? "(nothing)" : String.join(", ", parts);
    }
  }

  private final Key key;
  private final Map<String, Set<String>> preferred;

  private Requirements(Key key, Map<String, Set<String>> preferred) {
    this.key = key;
    this.preferred = preferred;
  }

  /**
   * Reads {@code platform}.
   *
   * @throws HearthException INVALID_ARGUMENT for a property without a type, a minimum that is not a
   *     number, two values of {@code OSFamily}, or a platform over the bounds
   */
  static Requirements parse(String actionName, Platform platform, PropertyTypes types) {
    if (platform.getPropertiesCount() > MAX_PROPERTIES) {
      throw HearthException.invalidArgument(
          "action '%s' names %d platform properties; at most %d are accepted",
          actionName, platform.getPropertiesCount(), MAX_PROPERTIES);
    }
    TreeMap<String, Set<String>> exact = new TreeMap<>();
    TreeMap<String, BigDecimal> minimum = new TreeMap<>();
    TreeMap<String, Set<String>> preferred = new TreeMap<>();
    for (Platform.Property property : platform.getPropertiesList()) {
      String name = property.getName();
      if (name.isEmpty()) {
        throw HearthException.invalidArgument(
            "action '%s' has a platform property with an empty name", actionName);
      }
      if (name.length() > MAX_NAME_LENGTH) {
        throw HearthException.invalidArgument(
            "action '%s' has a platform property whose name is %d characters long; at most %d"
                + " are accepted",
            actionName, name.length(), MAX_NAME_LENGTH);
      }
      if (property.getValue().length() > MAX_VALUE_LENGTH) {
        throw HearthException.invalidArgument(
            "the value of platform property '%s' in action '%s' is %d characters long; at most %d"
                + " are accepted",
            name, actionName, property.getValue().length(), MAX_VALUE_LENGTH);
      }
      PropertyType type = types.typeOf(name);
      if (type == null) {
        throw HearthException.invalidArgument(
            "unknown platform property '%s' in action '%s'; the scheduler supports: %s. To accept"
                + " it without choosing workers by it (a property that only keys the cache, or"
                + " one the worker reads), list it in the scheduler's configuration as"
                + " \"properties\": {\"%s\": \"ignore\"}; \"exact\" instead requires workers to"
                + " offer its value",
            name, actionName, types.supported(), name);
      }
      switch (type) {
        case EXACT -> {
          Set<String> values = exact.computeIfAbsent(name, k -> new TreeSet<>());
          values.add(property.getValue());
          if (name.equals(PlatformLexicon.OS_FAMILY)
              && values.stream().map(v -> PlatformLexicon.canonical(name, v)).distinct().count()
                  > 1) {
            throw HearthException.invalidArgument(
                "action '%s' names several values of platform property '%s' (%s); it takes one"
                    + " (REAPI platform lexicon)",
                actionName, name, String.join(", ", values));
          }
        }
        case MINIMUM -> {
          BigDecimal value =
              PropertyTypes.number(name, property.getValue(), "action '" + actionName + "'");
          minimum.merge(name, value, BigDecimal::max);
        }
        case PRIORITY ->
            preferred.computeIfAbsent(name, k -> new TreeSet<>()).add(property.getValue());
        case IGNORE -> {}
      }
    }
    exact.replaceAll((name, values) -> Collections.unmodifiableSet(values));
    return new Requirements(
        new Key(
            Collections.unmodifiableSortedMap(exact), Collections.unmodifiableSortedMap(minimum)),
        Collections.unmodifiableMap(preferred));
  }

  Key key() {
    return key;
  }

  /** How many of the preferred values {@code worker} offers. */
  int preference(WorkerState<?, ?> worker) {
    int score = 0;
    for (Map.Entry<String, Set<String>> entry : preferred.entrySet()) {
      for (String value : entry.getValue()) {
        if (worker.offers(entry.getKey(), value)) {
          score++;
        }
      }
    }
    return score;
  }

  /**
   * Why none of {@code workers} can run actions of {@code key}: the first requirement no worker
   * meets on its own, with what the workers offer instead, or, if each requirement is met by some
   * worker, the workers' values of the properties involved.
   */
  static String whyUnsatisfiable(Key key, Collection<WorkerOffer> workers) {
    if (workers.isEmpty()) {
      return "no worker is connected";
    }
    for (Map.Entry<String, Set<String>> entry : key.exact().entrySet()) {
      String name = entry.getKey();
      TreeSet<String> offered = new TreeSet<>();
      for (WorkerOffer worker : workers) {
        offered.addAll(worker.spec().properties().getOrDefault(name, Set.of()));
      }
      for (String value : entry.getValue()) {
        if (workers.stream().noneMatch(worker -> worker.offers(name, value))) {
          return String.format(
              "no connected worker offers %s=%s (%s)", name, value, offers(name, offered));
        }
      }
    }
    for (Map.Entry<String, BigDecimal> entry : key.minimum().entrySet()) {
      String name = entry.getKey();
      boolean met = false;
      TreeSet<String> offered = new TreeSet<>();
      for (WorkerOffer worker : workers) {
        offered.addAll(worker.spec().properties().getOrDefault(name, Set.of()));
        BigDecimal value = worker.number(name);
        met |= value != null && value.compareTo(entry.getValue()) >= 0;
      }
      if (!met) {
        return String.format(
            "no connected worker offers %s>=%s (%s)",
            name, entry.getValue().toPlainString(), offers(name, offered));
      }
    }
    Set<String> names = new TreeSet<>(key.exact().keySet());
    names.addAll(key.minimum().keySet());
    List<String> described = new ArrayList<>();
    for (WorkerOffer worker : workers) {
      if (described.size() == MAX_LISTED) {
        described.add("and " + (workers.size() - MAX_LISTED) + " more");
        break;
      }
      TreeMap<String, Set<String>> relevant = new TreeMap<>(worker.spec().properties());
      relevant.keySet().retainAll(names);
      described.add(worker.spec().name() + " " + relevant);
    }
    return String.format(
        "no single connected worker offers all of %s; the workers offer %s",
        key.describe(), String.join(", ", described));
  }

  private static String offers(String name, Collection<String> offered) {
    if (offered.isEmpty()) {
      return "no connected worker has property '" + name + "'";
    }
    List<String> listed = new ArrayList<>();
    for (String value : offered) {
      if (listed.size() == MAX_LISTED) {
        listed.add("and " + (offered.size() - MAX_LISTED) + " more");
        break;
      }
      listed.add(value);
    }
    return "workers offer " + name + ": " + String.join(", ", listed);
  }
}
