package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The standard platform properties of REAPI's platform lexicon ({@code platform.md} in the
 * remote-apis repository) that Hearth understands, and the values a worker detects for them from
 * the machine it runs on.
 *
 * <ul>
 *   <li>{@code OSFamily}: the operating system, one value matched exactly. The lexicon's values are
 *       lower case ({@code linux}, {@code macos}, {@code windows}, {@code freebsd}, {@code aix},
 *       {@code sunos}); a value that differs from one of them only in letter case, such as the
 *       {@code Linux} of older Hearth configurations, is an alias of it, in actions and in workers'
 *       properties alike.
 *   <li>{@code ISA}: the instruction set, such as {@code x86-64} or {@code arm-a64}, and
 *       extensions, such as {@code x86-avx2}; an action may name several, and a worker must offer
 *       all of them.
 *   <li>{@code cache-silo-key}: not in the lexicon, but what Bazel users set to keep the results of
 *       otherwise identical actions apart. The platform is part of an action's digest, so a
 *       different value is a different action-cache entry; workers ignore it.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class PlatformLexicon {
  /** The operating system family: one value, matched exactly. */
  public static final String OS_FAMILY = "OSFamily";

  /** The instruction set architecture and its extensions: several values, all required. */
  public static final String ISA = "ISA";

  /** A property that only keys the action cache; every scheduler accepts and ignores it. */
  public static final String CACHE_SILO_KEY = "cache-silo-key";

  /** The lexicon's standard {@code OSFamily} values. */
  public static final Set<String> OS_FAMILIES =
      Set.of("aix", "freebsd", "linux", "macos", "sunos", "windows");

  /**
   * The most platform properties (name and value pairs) one action may name, or one worker may
   * offer: platforms come from clients and workers, so what one of them declares is bounded.
   */
  public static final int MAX_PROPERTIES = 128;

  /** The longest platform property name, in characters, in an action or a worker's offer. */
  public static final int MAX_NAME_LENGTH = 256;

  /** The longest platform property value, in characters, in an action or a worker's offer. */
  public static final int MAX_VALUE_LENGTH = 4096;

  private PlatformLexicon() {}

  /**
   * The lexicon's spelling of {@code value} of property {@code name}: a standard {@code OSFamily}
   * value written in other letter case becomes the standard one; every other value is returned as
   * it is.
   */
  public static String canonical(String name, String value) {
    if (OS_FAMILY.equals(name)) {
      String lower = value.toLowerCase(Locale.ROOT);
      if (OS_FAMILIES.contains(lower)) {
        return lower;
      }
    }
    return value;
  }

  /** {@code spec} with its {@code OSFamily} values in the lexicon's spelling. */
  static WorkerSpec canonical(WorkerSpec spec) {
    Set<String> families = spec.properties().get(OS_FAMILY);
    if (families == null) {
      return spec;
    }
    Set<String> canonical = new TreeSet<>();
    for (String family : families) {
      canonical.add(canonical(OS_FAMILY, family));
    }
    if (canonical.equals(families)) {
      return spec;
    }
    Map<String, Set<String>> properties = new LinkedHashMap<>(spec.properties());
    properties.put(OS_FAMILY, canonical);
    return new WorkerSpec(spec.name(), properties, spec.slots());
  }

  /**
   * The {@code OSFamily} of a JVM whose {@code os.name} system property is {@code osName}, or empty
   * for an operating system the lexicon does not name.
   */
  public static Optional<String> osFamily(String osName) {
    String name = osName.toLowerCase(Locale.ROOT).trim();
    if (name.equals("linux")) {
      return Optional.of("linux");
    }
    if (name.startsWith("mac os") || name.equals("darwin")) {
      return Optional.of("macos");
    }
    if (name.startsWith("windows")) {
      return Optional.of("windows");
    }
    if (name.equals("sunos") || name.equals("solaris")) {
      return Optional.of("sunos");
    }
    return OS_FAMILIES.contains(name) ? Optional.of(name) : Optional.empty();
  }

  /**
   * The {@code ISA} of a JVM whose {@code os.arch} system property is {@code osArch}, or empty for
   * an architecture the lexicon does not name.
   */
  public static Optional<String> isa(String osArch) {
    return Optional.ofNullable(
        switch (osArch.toLowerCase(Locale.ROOT).trim()) {
          case "amd64", "x86_64", "x86-64" -> "x86-64";
          case "x86", "i386", "i486", "i586", "i686" -> "x86-32";
          case "aarch64", "arm64" -> "arm-a64";
          case "arm", "arm32" -> "arm-a32";
          case "ppc64le" -> "power-isa-le";
          case "ppc64", "ppc" -> "power-isa-be";
          case "sparcv9" -> "sparc-v9";
          default -> null;
        });
  }

  /**
   * What a worker on a machine with these {@code os.name} and {@code os.arch} offers for the
   * lexicon's properties: {@code OSFamily} and {@code ISA}, each left out when not recognised.
   */
  public static Map<String, List<String>> detect(String osName, String osArch) {
    Map<String, List<String>> detected = new LinkedHashMap<>();
    osFamily(osName).ifPresent(family -> detected.put(OS_FAMILY, List.of(family)));
    isa(osArch).ifPresent(isa -> detected.put(ISA, List.of(isa)));
    return detected;
  }

  /** {@link #detect} for the machine this JVM runs on. */
  public static Map<String, List<String>> detected() {
    return detect(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
  }

  /**
   * {@code configured} with the {@link #detected()} values of the lexicon properties it leaves out:
   * what a worker whose configuration names {@code configured} offers. A property the configuration
   * names keeps exactly its configured values.
   */
  public static Map<String, List<String>> withDetected(
      Map<String, ? extends Collection<String>> configured) {
    Map<String, List<String>> offered = new LinkedHashMap<>();
    configured.forEach((name, values) -> offered.put(name, List.copyOf(values)));
    detected().forEach(offered::putIfAbsent);
    return offered;
  }
}
