package build.hearth.spi.worker;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a worker tells the scheduler when it connects: its name, its platform properties (a name may
 * have several values) and how many actions it runs at once.
 *
 * <pre>{@code
 * WorkerSpec spec = WorkerSpec.builder("worker-1")
 *     .slots(8)
 *     .property("OSFamily", "linux")
 *     .property("cpu_count", "16")
 *     .property("capability", "docker", "gpu")
 *     .build();
 * }</pre>
 *
 * @param name names the worker in messages; two connected workers may share a name, but should not
 * @param properties property name to values; copied, sorted and unmodifiable
 * @param slots how many actions the worker runs at once; at least 1
 */
public record WorkerSpec(String name, Map<String, Set<String>> properties, int slots) {
  /**
   * Checks and copies the values.
   *
   * @param name names the worker in messages
   * @param properties property name to values; a name with no values is left out
   * @param slots how many actions the worker runs at once
   * @throws NullPointerException if a value, name or property is null
   * @throws IllegalArgumentException if the name is blank, a property has no name, or {@code slots}
   *     is less than 1
   */
  public WorkerSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(properties, "properties");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a worker needs a name");
    }
    if (slots < 1) {
      throw new IllegalArgumentException("worker '" + name + "' needs at least 1 slot: " + slots);
    }
    properties = copy(properties);
  }

  /**
   * {@return a builder for a worker named {@code name}, with one slot and no properties}
   *
   * @param name names the worker in messages
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  private static Map<String, Set<String>> copy(Map<String, ? extends Collection<String>> source) {
    TreeMap<String, Set<String>> copy = new TreeMap<>();
    source.forEach(
        (key, values) -> {
          Objects.requireNonNull(key, "property name");
          Objects.requireNonNull(values, "property values");
          if (key.isEmpty()) {
            throw new IllegalArgumentException("a worker property needs a name");
          }
          if (!values.isEmpty()) {
            TreeSet<String> sorted = new TreeSet<>();
            for (String value : values) {
              sorted.add(Objects.requireNonNull(value, "property value"));
            }
            copy.put(key, Collections.unmodifiableSet(sorted));
          }
        });
    return Collections.unmodifiableMap(copy);
  }

  /** Builds a {@link WorkerSpec}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final Map<String, Set<String>> properties = new LinkedHashMap<>();
    private int slots = 1;

    private Builder(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Sets how many actions the worker runs at once; checked by {@link #build()}.
     *
     * @param slots 1 by default
     * @return this builder
     */
    public Builder slots(int slots) {
      this.slots = slots;
      return this;
    }

    /**
     * Adds {@code values} to the values of property {@code name}.
     *
     * @param name the property's name
     * @param values values to add; none leaves the property out unless it has others
     * @return this builder
     */
    public Builder property(String name, String... values) {
      Set<String> existing = properties.computeIfAbsent(name, unused -> new TreeSet<>());
      for (String value : values) {
        existing.add(Objects.requireNonNull(value, "value"));
      }
      return this;
    }

    /**
     * Adds each property of {@code more}, keeping values added before.
     *
     * @param more property name to values
     * @return this builder
     */
    public Builder properties(Map<String, ? extends Collection<String>> more) {
      more.forEach((key, values) -> property(key, values.toArray(new String[0])));
      return this;
    }

    /**
     * {@return the spec}
     *
     * @throws IllegalArgumentException as the record's constructor does
     */
    public WorkerSpec build() {
      return new WorkerSpec(name, properties, slots);
    }
  }
}
