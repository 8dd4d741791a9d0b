package build.hearth.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The spawn counts from the line Bazel prints at the end of a build, for example
 *
 * <pre>
 * INFO: 23 processes: 1 internal, 22 linux-sandbox.
 * INFO: 23 processes: 22 remote cache hit, 1 internal.
 * INFO: 2 processes: 1 internal, 1 local.
 * INFO: 1 process: 1 internal.
 * INFO: 0 processes.
 * </pre>
 *
 * (wording of Bazel 4.2.3; the order of the kinds varies). Each kind is a spawn runner's name:
 * {@code internal} for actions Bazel runs in its own JVM, {@code remote cache hit} for results
 * taken from a remote (or disk) cache, {@code remote} for remote execution, and a local strategy
 * name ({@code linux-sandbox}, {@code processwrapper-sandbox}, {@code local}, {@code worker}, ...)
 * for everything run on this machine.
 *
 * <p>Parsing is strict: a missing line, counts that do not add up to the total, or a kind this
 * class does not know all fail the test, because every assertion about caching is built on these
 * numbers and a silent misreading would let such a test pass vacuously. Immutable.
 */
record ProcessSummary(int total, Map<String, Integer> counts) {
  static final String INTERNAL = "internal";
  static final String REMOTE_CACHE_HIT = "remote cache hit";
  static final String REMOTE = "remote";

  /** Strategies that run the spawn on this machine. */
  private static final Set<String> LOCAL_KINDS =
      Set.of(
          "local",
          "standalone",
          "linux-sandbox",
          "processwrapper-sandbox",
          "darwin-sandbox",
          "sandbox",
          "docker",
          "worker",
          "multiplex-worker");

  private static final Pattern LINE =
      Pattern.compile("^INFO: (\\d+) process(?:es)?(?:: (.+))?\\.$", Pattern.MULTILINE);
  private static final Pattern PART = Pattern.compile("(\\d+) ([a-z][a-z -]*[a-z])");

  ProcessSummary {
    counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
  }

  /** Parses the last process summary line in Bazel's output (its stderr). */
  static ProcessSummary parse(String bazelOutput) {
    Matcher matcher = LINE.matcher(bazelOutput);
    String lastLine = null;
    String lastTotal = null;
    String lastParts = null;
    while (matcher.find()) {
      lastLine = matcher.group();
      lastTotal = matcher.group(1);
      lastParts = matcher.group(2);
    }
    if (lastLine == null) {
      fail(
          "Bazel printed no 'INFO: N processes: ...' line; did the command build anything?"
              + " Output ends with:\n"
              + BazelResult.lastLines(bazelOutput, 30));
    }
    int total = Integer.parseInt(lastTotal);
    Map<String, Integer> counts = new LinkedHashMap<>();
    if (lastParts != null) {
      for (String part : lastParts.split(", ")) {
        Matcher partMatcher = PART.matcher(part);
        if (!partMatcher.matches()) {
          fail("cannot read '" + part + "' in the process summary: " + lastLine);
        }
        String kind = partMatcher.group(2);
        if (!kind.equals(INTERNAL)
            && !kind.equals(REMOTE_CACHE_HIT)
            && !kind.equals(REMOTE)
            && !LOCAL_KINDS.contains(kind)) {
          fail(
              "unknown process kind '"
                  + kind
                  + "' in: "
                  + lastLine
                  + "; teach ProcessSummary whether it runs locally or remotely");
        }
        counts.merge(kind, Integer.parseInt(partMatcher.group(1)), Integer::sum);
      }
    }
    int sum = counts.values().stream().mapToInt(Integer::intValue).sum();
    if (sum != total) {
      fail("process kinds add up to " + sum + ", not " + total + ", in: " + lastLine);
    }
    return new ProcessSummary(total, counts);
  }

  /** The count for one kind, zero if Bazel did not mention it. */
  int count(String kind) {
    return counts.getOrDefault(kind, 0);
  }

  /** Actions Bazel ran inside its own server (symlinks, file writes, workspace status). */
  int internal() {
    return count(INTERNAL);
  }

  /** Spawns whose result came from the remote cache instead of being run. */
  int remoteCacheHits() {
    return count(REMOTE_CACHE_HIT);
  }

  /** Spawns executed by a remote executor. */
  int remotelyExecuted() {
    return count(REMOTE);
  }

  /** Spawns run on this machine, by any local strategy. */
  int executedLocally() {
    return counts.entrySet().stream()
        .filter(e -> LOCAL_KINDS.contains(e.getKey()))
        .mapToInt(Map.Entry::getValue)
        .sum();
  }

  /** Every spawn that was not internal: what a remote cache or executor could have served. */
  int spawns() {
    return total - internal();
  }

  @Override
  public String toString() {
    return total + " processes " + counts;
  }
}
