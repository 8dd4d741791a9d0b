package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withWorkers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import build.hearth.api.ConfigException;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.spi.worker.WorkerSpec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The "workers" list: workers inside the server process. */
class WorkerConfigTest {
  private static final Path HOME = Path.of(System.getProperty("user.home"));

  private static List<WorkerConfig> workers(String json) {
    return HearthConfig.parse(withWorkers(json), "t").workers();
  }

  @Test
  void everyFieldBinds() {
    WorkerConfig worker =
        workers(
                """
                [ {
                    "name": "big-1",
                    "scheduler": "main",
                    "instance": "ci",
                    "slots": 16,
                    "properties": { "OSFamily": "Linux", "cpu_count": ["8", "16"], "pool": ["a"] },
                    "workDirectory": "/srv/hearth/work/",
                    "cache": { "path": "/srv/hearth/./cache", "maxSize": "2GiB" }
                  } ]""")
            .get(0);

    assertThat(worker.name()).isEqualTo("big-1");
    assertThat(worker.scheduler()).hasValue("main");
    assertThat(worker.instance()).hasValue("ci");
    assertThat(worker.slots()).isEqualTo(16);
    assertThat(worker.properties())
        .containsExactly(
            entry("OSFamily", List.of("Linux")),
            entry("cpu_count", List.of("8", "16")),
            entry("pool", List.of("a")));
    assertThat(worker.workDirectory()).isEqualTo(Path.of("/srv/hearth/work"));
    assertThat(worker.cachePath()).isEqualTo(Path.of("/srv/hearth/cache"));
    assertThat(worker.cacheMaxSizeBytes()).isEqualTo(2L << 30);
  }

  @Test
  void defaultsApplyWhenOnlyNameAndSchedulerAreGiven() {
    WorkerConfig worker = workers("[ { \"name\": \"w\", \"scheduler\": \"main\" } ]").get(0);

    assertThat(worker.instance()).hasValue("");
    assertThat(worker.slots()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(worker.properties()).isEmpty();
    assertThat(worker.workDirectory()).isEqualTo(HOME.resolve(".cache/hearth/work/w"));
    assertThat(worker.cachePath()).isEqualTo(HOME.resolve(".cache/hearth/worker-cache/w"));
    assertThat(worker.cacheMaxSizeBytes())
        .isEqualTo(WorkerConfig.DEFAULT_CACHE_MAX_SIZE_BYTES)
        .isEqualTo(10L << 30);
  }

  @Test
  void tildeMeansTheHomeDirectoryAndRelativePathsStayRelative() {
    WorkerConfig worker =
        workers(
                """
                [ { "name": "w", "scheduler": "main", "workDirectory": "~/w",
                    "cache": { "path": "build/../cache" } } ]""")
            .get(0);

    assertThat(worker.workDirectory()).isEqualTo(HOME.resolve("w"));
    assertThat(worker.cachePath()).isEqualTo(Path.of("cache"));
  }

  @Test
  void severalWorkersKeepTheirOrder() {
    List<WorkerConfig> workers =
        workers(
            """
            [ { "name": "b", "scheduler": "main" },
              { "name": "a", "scheduler": "main", "instance": "ci" } ]""");

    assertThat(workers).extracting(WorkerConfig::name).containsExactly("b", "a");
  }

  @Test
  void workerSpecCarriesNameSlotsAndProperties() {
    WorkerConfig worker =
        workers(
                """
                [ { "name": "w", "scheduler": "main", "slots": 3,
                    "properties": { "OSFamily": "Linux", "pool": ["b", "a"] } } ]""")
            .get(0);

    WorkerSpec spec = worker.workerSpec();

    assertThat(spec.name()).isEqualTo("w");
    assertThat(spec.slots()).isEqualTo(3);
    // The file names OSFamily, so only ISA is detected from the machine.
    Map<String, Set<String>> expected = new HashMap<>();
    expected.put("OSFamily", Set.of("Linux"));
    expected.put("pool", Set.of("a", "b"));
    PlatformLexicon.isa(System.getProperty("os.arch"))
        .ifPresent(isa -> expected.put("ISA", Set.of(isa)));
    assertThat(spec.properties()).isEqualTo(expected);
  }

  @Test
  void anyPropertyIsAcceptedWhenTheSchedulerAcceptsUnknownOnes() {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "schedulers": { "open": { "unknownProperties": "exact" } },
          "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ],
          "workers": [ { "name": "w", "scheduler": "open", "properties": { "gpu": "a100" } } ]
        }
        """;

    assertThat(HearthConfig.parse(json, "t").workers().get(0).properties()).containsOnlyKeys("gpu");
  }

  @Test
  void toStringNamesTheFields() {
    WorkerConfig worker =
        workers(
                """
                [ { "name": "w", "scheduler": "main", "slots": 2, "workDirectory": "/w",
                    "cache": { "path": "/c", "maxSize": 1048576 } } ]""")
            .get(0);

    assertThat(worker)
        .hasToString(
            "WorkerConfig{name=w, scheduler=main, instance=\"\", slots=2, properties={},"
                + " workDirectory=/w, cache=/c, cacheMaxSizeBytes=1048576, sandbox=OPTIONAL}");
  }

  // ---- errors ----

  @Test
  void workersMustBeAnArray() {
    ConfigException e = errorOf(withWorkers("{ \"name\": \"w\" }"));

    assertThat(e.path()).isEqualTo("workers");
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage())
        .isEqualTo("workers (line 11): expected an array of worker objects, found an object");
  }

  @Test
  void workerMustBeAnObject() {
    ConfigException e = errorOf(withWorkers("[ \"local\" ]"));

    assertThat(e.path()).isEqualTo("workers[0]");
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage())
        .endsWith(
            "expected a worker object such as {\"name\": \"local\", \"scheduler\": \"main\"},"
                + " found the string \"local\"");
  }

  @Test
  void unknownWorkerField() {
    ConfigException e =
        errorOf(withWorkers("[ { \"name\": \"w\", \"scheduler\": \"main\",\n  \"slot\": 2 } ]"));

    assertThat(e.path()).isEqualTo("workers[0].slot");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].slot (line 12): unknown field 'slot'; did you mean 'slots'? Known fields"
                + " here: name, scheduler, instance, slots, properties, workDirectory, cache,"
                + " persistentWorkers, sandbox, maxDirectorySize");
  }

  @Test
  void missingName() {
    ConfigException e = errorOf(withWorkers("[\n  { \"scheduler\": \"main\" } ]"));

    assertThat(e.path()).isEqualTo("workers[0].name");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].name (line 12): missing required field 'name'; it names the worker in"
                + " logs and in its default directories, such as \"local\"");
  }

  @Test
  void duplicateName() {
    ConfigException e =
        errorOf(
            withWorkers(
                """
                [ { "name": "w", "scheduler": "main" },
                  { "scheduler": "main",
                    "name": "w" } ]"""));

    assertThat(e.path()).isEqualTo("workers[1].name");
    assertThat(e.line()).isEqualTo(13);
    assertThat(e.getMessage())
        .endsWith(
            "the worker name 'w' is already used by workers[0] (line 11); names must be unique");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "``              | a worker name must not be empty",
        "a/b             | a worker name may contain only letters, digits, '.', '_' and '-', since"
            + " it names the worker's default directories; found the string \"a/b\"",
        "..              | a worker name may contain only letters, digits, '.', '_' and '-', since"
            + " it names the worker's default directories; found the string \"..\"",
        "my worker       | a worker name may contain only letters, digits, '.', '_' and '-'",
      })
  void namesThatAreRefused(String name, String problem) {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"scheduler\": \"main\",\n  \"name\": " + ConfigPaths.quote(name) + " } ]"));

    assertThat(e.path()).isEqualTo("workers[0].name");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).startsWith("workers[0].name (line 12): " + problem);
  }

  @Test
  void missingScheduler() {
    ConfigException e = errorOf(withWorkers("[ { \"name\": \"w\" } ]"));

    assertThat(e.path()).isEqualTo("workers[0].scheduler");
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage())
        .endsWith(
            "missing required field 'scheduler'; it names the schedulers entry whose actions this"
                + " worker runs");
  }

  @Test
  void schedulerThatIsNotDefined() {
    ConfigException e =
        errorOf(withWorkers("[ { \"name\": \"w\",\n  \"scheduler\": \"default\" } ]"));

    assertThat(e.path()).isEqualTo("workers[0].scheduler");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo("workers[0].scheduler (line 12): no scheduler named 'default'; defined: main");
  }

  @Test
  void instanceThatNoServerHas() {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\",\n  \"instance\": \"cd\" } ]"));

    assertThat(e.path()).isEqualTo("workers[0].instance");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].instance (line 12): no server has an instance named 'cd'; instances: \"\","
                + " ci");
  }

  @Test
  void defaultInstanceThatNoServerHas() {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "schedulers": { "main": {} },
          "servers": [ { "listen": "127.0.0.1:0", "instances": { "ci": { "cas": "cas" } } } ],
          "workers": [
            { "name": "w", "scheduler": "main" }
          ]
        }
        """;

    ConfigException e = errorOf(json);

    assertThat(e.path()).isEqualTo("workers[0].instance");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].instance (line 6): no server has the default instance \"\", which a"
                + " worker uses when \"instance\" is left out; name one of the instances: ci");
  }

  @Test
  void instanceNameThatServesDifferentStoresOnTwoServers() {
    String json =
        """
        {
          "blobStores": { "a": { "type": "memory" }, "b": { "type": "memory" } },
          "schedulers": { "main": {} },
          "servers": [
            { "listen": "127.0.0.1:0", "instances": { "": { "cas": "a" } } },
            { "listen": "127.0.0.1:0", "instances": { "": { "cas": "a" } } },
            { "listen": "127.0.0.1:0", "instances": { "": { "cas": "b" } } }
          ],
          "workers": [ { "name": "w", "scheduler": "main",
                         "instance": "" } ]
        }
        """;

    ConfigException e = errorOf(json);

    assertThat(e.path()).isEqualTo("workers[0].instance");
    assertThat(e.line()).isEqualTo(10);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].instance (line 10): instances named \"\" keep their blobs in different"
                + " stores (servers[0].instances.\"\" (line 5) uses 'a', servers[2].instances.\"\""
                + " (line 7) uses 'b'), so it is unclear which CAS the worker should read inputs"
                + " from; give the instances different names");
  }

  @Test
  void instanceNameSharedByServersWithOneStoreIsFine() {
    String json =
        """
        {
          "blobStores": { "a": { "type": "memory" } },
          "schedulers": { "main": {} },
          "servers": [
            { "listen": "127.0.0.1:0", "instances": { "": { "cas": "a" } } },
            { "listen": "127.0.0.1:0", "instances": { "": { "cas": "a" } } }
          ],
          "workers": [ { "name": "w", "scheduler": "main" } ]
        }
        """;

    assertThat(HearthConfig.parse(json, "t").workers()).hasSize(1);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "0       | a worker needs at least 1 slot, found the number 0",
        "-4      | a worker needs at least 1 slot, found the number -4",
        "\"4\"   | expected a whole number, found the string \"4\"",
        "1.5     | expected a whole number, found the number 1.5",
      })
  void slotsThatAreRefused(String json, String problem) {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\",\n  \"slots\": " + json + " } ]"));

    assertThat(e.path()).isEqualTo("workers[0].slots");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).isEqualTo("workers[0].slots (line 12): " + problem);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "`[\"Linux\"]`          | properties      | expected an object mapping platform property"
            + " names to values, such as {\"OSFamily\": [\"Linux\"]}, found an array",
        "`{\"\": \"x\"}`        | properties.\"\" | a platform property needs a name",
        "`{\"cpu_count\": 8}`   | properties.cpu_count | expected a string or an array of strings"
            + " (numbers in quotes, as in \"8\"), found the number 8",
        "`{\"pool\": []}`       | properties.pool | an empty array offers no value; give at least"
            + " one, or leave the property out",
        "`{\"pool\": [\"a\", 1]}` | properties.pool[1] | expected a string (numbers in quotes, as"
            + " in \"8\"), found the number 1",
        "`{\"pool\": [\"a\", \"a\"]}` | properties.pool[1] | the value \"a\" is listed twice",
        "`{\"pool\": null}`     | properties.pool | expected a string or an array of strings"
            + " (numbers in quotes, as in \"8\"), found null",
      })
  void propertiesThatAreRefused(String json, String path, String problem) {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\",\n  \"properties\": "
                    + json
                    + " } ]"));

    assertThat(e.path()).isEqualTo("workers[0]." + path);
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).isEqualTo("workers[0]." + path + " (line 12): " + problem);
  }

  @Test
  void propertyThatTheSchedulerRefusesSuggestsTheClosestOne() {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\", \"properties\": {\n"
                    + "  \"OSfamily\": \"Linux\" } } ]"));

    assertThat(e.path()).isEqualTo("workers[0].properties.OSfamily");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].properties.OSfamily (line 12): scheduler 'main' has no property"
                + " 'OSfamily', so no action can ask for it; did you mean 'OSFamily'? Its"
                + " properties: OSFamily, cpu_count, pool (add it under"
                + " schedulers.main.properties, or set that scheduler's \"unknownProperties\")");
  }

  @Test
  void propertyOfASchedulerWithNone() {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "schedulers": { "bare": {} },
          "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ],
          "workers": [ { "name": "w", "scheduler": "bare", "properties": { "gpu": "a100" } } ]
        }
        """;

    ConfigException e = errorOf(json);

    assertThat(e.path()).isEqualTo("workers[0].properties.gpu");
    assertThat(e.line()).isEqualTo(5);
    assertThat(e.getMessage())
        .endsWith(
            "scheduler 'bare' has no property 'gpu', so no action can ask for it; its properties:"
                + " none (add it under schedulers.bare.properties, or set that scheduler's"
                + " \"unknownProperties\")");
  }

  @Test
  void minimumPropertyValuesMustBeNumbers() {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\", \"properties\": {\n"
                    + "  \"cpu_count\": [\"8\", \"many\"] } } ]"));

    assertThat(e.path()).isEqualTo("workers[0].properties.cpu_count[1]");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .endsWith(
            "scheduler 'main' compares 'cpu_count' as a minimum, so its values must be numbers;"
                + " found the string \"many\"");
  }

  @Test
  void minimumPropertyValuesMayBeDecimals() {
    WorkerConfig worker =
        workers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\","
                    + " \"properties\": { \"cpu_count\": \"2.5\" } } ]")
            .get(0);

    assertThat(worker.properties()).containsEntry("cpu_count", List.of("2.5"));
  }

  @Test
  void unknownCacheField() {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\",\n"
                    + "  \"cache\": { \"size\": \"1GiB\" } } ]"));

    assertThat(e.path()).isEqualTo("workers[0].cache.size");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).endsWith("unknown field 'size'; known fields here: path, maxSize");
  }

  @Test
  void cacheMustBeAnObject() {
    ConfigException e =
        errorOf(withWorkers("[ { \"name\": \"w\", \"scheduler\": \"main\", \"cache\": \"/c\" } ]"));

    assertThat(e.path()).isEqualTo("workers[0].cache");
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage())
        .endsWith(
            "expected a cache object such as {\"path\": \"~/.cache/hearth/worker-cache/local\","
                + " \"maxSize\": \"10GiB\"}, found the string \"/c\"");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "\"512KiB\" | must be at least 1MiB (1048576 bytes), found the string \"512KiB\" (524288"
            + " bytes)",
        "\"lots\"   | expected a size in bytes such as 4194304 or \"4MiB\", found the string"
            + " \"lots\"",
      })
  void cacheSizesThatAreRefused(String json, String problem) {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\", \"cache\": {\n  \"maxSize\": "
                    + json
                    + " } } ]"));

    assertThat(e.path()).isEqualTo("workers[0].cache.maxSize");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).isEqualTo("workers[0].cache.maxSize (line 12): " + problem);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "workDirectory | `\"\"`  | expected a path, found an empty string",
        "workDirectory | `\" \"` | expected a path, found the string \" \"",
        "workDirectory | 7       | expected a string, found the number 7",
        "workDirectory | `\"a\\u0000b\"` | \"a\\u0000b\" is not a valid path: Nul character not"
            + " allowed",
      })
  void pathsThatAreRefused(String field, String json, String problem) {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"w\", \"scheduler\": \"main\",\n  \""
                    + field
                    + "\": "
                    + json
                    + " } ]"));

    assertThat(e.path()).isEqualTo("workers[0]." + field);
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage()).isEqualTo("workers[0]." + field + " (line 12): " + problem);
  }

  @Test
  void twoWorkersInOneWorkDirectory() {
    ConfigException e =
        errorOf(
            withWorkers(
                """
                [ { "name": "a", "scheduler": "main", "workDirectory": "/srv/work" },
                  { "name": "b", "scheduler": "main",
                    "workDirectory": "/srv/./work/" } ]"""));

    assertThat(e.path()).isEqualTo("workers[1].workDirectory");
    assertThat(e.line()).isEqualTo(13);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[1].workDirectory (line 13): /srv/work is also workers[0].workDirectory"
                + " (line 11); every workDirectory and cache path needs a directory of its own");
  }

  @Test
  void cacheInsideTheSameWorkersWorkDirectory() {
    ConfigException e =
        errorOf(
            withWorkers(
                """
                [ { "name": "a", "scheduler": "main", "workDirectory": "/srv/hearth",
                    "cache": {
                      "path": "/srv/hearth/cache" } } ]"""));

    assertThat(e.path()).isEqualTo("workers[0].cache.path");
    assertThat(e.line()).isEqualTo(13);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[0].cache.path (line 13): /srv/hearth/cache is inside /srv/hearth,"
                + " workers[0].workDirectory (line 11); every workDirectory and cache path needs a"
                + " directory of its own");
  }

  @Test
  void defaultDirectoryInsideAnotherWorkersDirectory() {
    String home = ConfigPaths.quote(HOME.resolve(".cache/hearth").toString());
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"a\", \"scheduler\": \"main\", \"workDirectory\": "
                    + home
                    + ", \"cache\": { \"path\": \"/var/cache/a\" } },\n"
                    + "  { \"name\": \"b\", \"scheduler\": \"main\" } ]"));

    assertThat(e.path()).isEqualTo("workers[1].workDirectory");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[1].workDirectory (line 12): the default "
                + HOME.resolve(".cache/hearth/work/b")
                + " is inside "
                + HOME.resolve(".cache/hearth")
                + ", workers[0].workDirectory (line 11); every workDirectory and cache path needs"
                + " a directory of its own");
  }

  @Test
  void directoryThatContainsAnEarlierDefault() {
    ConfigException e =
        errorOf(
            withWorkers(
                "[ { \"name\": \"a\", \"scheduler\": \"main\" },\n"
                    + "  { \"name\": \"b\", \"scheduler\": \"main\", \"cache\": { \"path\": \"~\" } } ]"));

    assertThat(e.path()).isEqualTo("workers[1].cache.path");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "workers[1].cache.path (line 12): "
                + HOME
                + " contains "
                + HOME.resolve(".cache/hearth/work/a")
                + ", the default workers[0].workDirectory; every workDirectory and cache path"
                + " needs a directory of its own");
  }
}
