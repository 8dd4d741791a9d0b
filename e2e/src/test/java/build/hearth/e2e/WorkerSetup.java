package build.hearth.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One Hearth worker as a test sets it up: its name, slots, platform properties, and a directory of
 * its own that holds its work directory and its blob cache. The same description serves a worker
 * inside the server (an entry of {@code "workers"}) and a separate worker process (its {@code
 * --config} file), so a test can tell from an action's working directory which worker ran it.
 * Immutable.
 *
 * @param name the worker's name
 * @param slots how many actions it runs at once
 * @param properties the platform properties it offers, each with its values
 * @param directory a directory used by this worker only
 */
record WorkerSetup(String name, int slots, Map<String, List<String>> properties, Path directory) {
  /**
   * How deep below the work directory to look for a file in an exec root: the worker keeps exec
   * roots a couple of levels down (per instance), and an action's files sit in the exec root.
   */
  private static final int EXEC_ROOT_SEARCH_DEPTH = 5;

  WorkerSetup {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    properties.forEach((key, values) -> copy.put(key, List.copyOf(values)));
    properties = Collections.unmodifiableMap(copy);
  }

  /** A Linux worker named {@code name} with its directory under {@code parent}. */
  static WorkerSetup linux(String name, int slots, Path parent) {
    return new WorkerSetup(name, slots, Map.of("OSFamily", List.of("Linux")), parent.resolve(name));
  }

  /** This worker, also offering {@code values} for {@code property}. */
  WorkerSetup offering(String property, String... values) {
    Map<String, List<String>> more = new LinkedHashMap<>(properties);
    more.put(property, List.of(values));
    return new WorkerSetup(name, slots, more, directory);
  }

  /**
   * Where the worker makes its exec roots: every action it runs has its working directory below.
   */
  Path workDirectory() {
    return directory.resolve("work");
  }

  /** The worker's local blob cache, on the same file system as the work directory. */
  Path cacheDirectory() {
    return directory.resolve("cas");
  }

  /**
   * Whether {@code workingDirectory}, as an action printed it with {@code pwd -P}, lies under this
   * worker's work directory, that is, whether this worker ran the action.
   */
  boolean ran(String workingDirectory) {
    Path printed = Path.of(workingDirectory.trim());
    try {
      return printed.startsWith(workDirectory().toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot resolve " + workDirectory(), e);
    }
  }

  /**
   * A file named {@code fileName} that an action running on this worker wrote into its exec root,
   * if there is one now. Exec roots come and go while this looks, so a miss means only "not yet".
   */
  Optional<Path> findInExecRoots(String fileName) {
    if (!Files.isDirectory(workDirectory())) {
      return Optional.empty();
    }
    try (Stream<Path> walk = Files.walk(workDirectory(), EXEC_ROOT_SEARCH_DEPTH)) {
      return walk.filter(p -> p.getFileName().toString().equals(fileName))
          .filter(Files::isRegularFile)
          .findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  /**
   * The worker as a JSON object; {@code extraMembers} (such as {@code "scheduler": "main"}) are
   * inserted verbatim, already formatted as JSON members.
   */
  String json(String... extraMembers) {
    List<String> members = new ArrayList<>();
    members.add("\"name\": " + HearthConfigs.quoted(name));
    members.addAll(List.of(extraMembers));
    members.add("\"slots\": " + slots);
    List<String> offered = new ArrayList<>();
    properties.forEach(
        (key, values) ->
            offered.add(
                HearthConfigs.quoted(key)
                    + ": ["
                    + String.join(", ", values.stream().map(v -> HearthConfigs.quoted(v)).toList())
                    + "]"));
    members.add("\"properties\": {" + String.join(", ", offered) + "}");
    members.add("\"workDirectory\": " + HearthConfigs.quoted(workDirectory().toString()));
    members.add(
        "\"cache\": {\"path\": "
            + HearthConfigs.quoted(cacheDirectory().toString())
            + ", \"maxSize\": \"2GiB\"}");
    return "{" + String.join(", ", members) + "}";
  }
}
