package build.hearth.spi.internal;

import java.net.URL;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every provider registry of the SPI discovers and chooses its plugins, so that storage and
 * transport plugins are found, ranked and reported the same way: a provider that fails to load or
 * to describe itself is logged and skipped, unavailable ones are left out, and the higher priority
 * wins a type. Not part of the SPI; the module does not export this package.
 */
public final class ProviderLookup<P> {
  private static final Logger log = LoggerFactory.getLogger(ProviderLookup.class);

  private final String kind;
  private final Function<P, String> type;
  private final Predicate<P> available;
  private final ToIntFunction<P> priority;

  /**
   * Describes a kind of provider.
   *
   * @param kind what the providers are, for log lines about their descriptions, such as {@code
   *     "transport provider"}
   * @param type reads a provider's type name
   * @param available reads whether a provider works in this process
   * @param priority reads a provider's priority; the higher wins a type
   */
  public ProviderLookup(
      String kind, Function<P, String> type, Predicate<P> available, ToIntFunction<P> priority) {
    this.kind = kind;
    this.type = type;
    this.available = available;
    this.priority = priority;
  }

  /**
   * {@return every provider of {@code service} that {@code classLoader} can load} One that fails to
   * load (a missing class, a constructor that throws) is logged, naming the service, and left out.
   */
  public <Q extends P> List<Q> load(Class<Q> service, ClassLoader classLoader) {
    List<Q> found = new ArrayList<>();
    Iterator<Q> it = ServiceLoader.load(service, classLoader).iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        found.add(it.next());
      } catch (ServiceConfigurationError | LinkageError e) {
        log.warn("Skipping a {} that failed to load: {}", service.getSimpleName(), e.toString());
      }
    }
    return found;
  }

  /**
   * {@return the available providers by type name, sorted by name, the highest priority for each} A
   * provider whose {@code type}, {@code isAvailable} or {@code priority} throws is logged and left
   * out.
   */
  public <Q extends P> Map<String, Q> byType(List<? extends Q> providers) {
    Map<String, Q> chosen = new TreeMap<>();
    Map<String, Integer> priorities = new TreeMap<>();
    for (Q provider : providers) {
      String name;
      int rank;
      try {
        if (!available.test(provider)) {
          log.debug("{} {} is not available here", kind, provider.getClass().getName());
          continue;
        }
        name = type.apply(provider);
        rank = priority.applyAsInt(provider);
      } catch (RuntimeException e) {
        log.warn("Skipping {} {}: {}", kind, provider.getClass().getName(), e.toString());
        continue;
      }
      Integer current = priorities.get(name);
      if (current == null || rank > current) {
        chosen.put(name, provider);
        priorities.put(name, rank);
      }
    }
    return Collections.unmodifiableMap(new LinkedHashMap<>(chosen));
  }

  /**
   * {@return the known types for an "unknown type" message: {@code 'a' (from a.jar), 'b' (from
   * b.jar)}, or {@code none}}
   */
  public static String describe(Map<String, ?> providers) {
    if (providers.isEmpty()) {
      return "none";
    }
    StringBuilder known = new StringBuilder();
    for (Map.Entry<String, ?> e : providers.entrySet()) {
      if (known.length() > 0) {
        known.append(", ");
      }
      known
          .append('\'')
          .append(e.getKey())
          .append("' (from ")
          .append(origin(e.getValue()))
          .append(')');
    }
    return known.toString();
  }

  /** {@return the file name of the jar (or directory) a provider was loaded from, or its class} */
  private static String origin(Object provider) {
    CodeSource source = provider.getClass().getProtectionDomain().getCodeSource();
    URL location = source == null ? null : source.getLocation();
    if (location == null) {
      return provider.getClass().getName();
    }
    String text = location.getPath();
    if (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return text.substring(text.lastIndexOf('/') + 1);
  }
}
