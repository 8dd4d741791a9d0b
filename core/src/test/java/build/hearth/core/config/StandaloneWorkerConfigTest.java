package build.hearth.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import build.hearth.api.ConfigException;
import build.hearth.core.scheduler.PlatformLexicon;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file of a worker process started with {@code hearth worker --config worker.json}. */
class StandaloneWorkerConfigTest {
  private static final Path HOME = Path.of(System.getProperty("user.home"));
  private static final long PID = ProcessHandle.current().pid();

  /** Binds with a fixed host name, so the defaults can be asserted exactly. */
  private static WorkerConfig onHost(String host, String json) {
    return WorkerBinder.standalone(
        JsonTreeReader.read(json, "worker.json", WorkerBinder.EMPTY_HINT), () -> host, null);
  }

  private static ConfigException errorOf(String json) {
    try {
      WorkerConfig worker = WorkerConfig.parseStandalone(json, "worker.json");
      throw new AssertionError("expected a ConfigException, but it parsed to " + worker);
    } catch (ConfigException e) {
      return e;
    }
  }

  @Test
  void maxMessageSizeBindsWithADefaultAndIsBounded() {
    assertThat(WorkerConfig.parseStandalone("{}", "worker.json").maxMessageBytes())
        .isEqualTo(40 << 20);
    assertThat(
            WorkerConfig.parseStandalone("{\"maxMessageSize\": \"64MiB\"}", "worker.json")
                .maxMessageBytes())
        .isEqualTo(64 << 20);

    ConfigException small = errorOf("{\"maxMessageSize\": 1024}");
    assertThat(small.path()).isEqualTo("maxMessageSize");
    assertThat(small.getMessage()).contains("must be from 4194304 bytes");
    ConfigException notASize = errorOf("{\"maxMessageSize\": \"big\"}");
    assertThat(notASize.path()).isEqualTo("maxMessageSize");
  }

  @Test
  void aWorkerWithoutPropertiesOffersTheLexiconValuesOfItsMachine() {
    WorkerConfig worker = WorkerConfig.parseStandalone("{}", "worker.json");

    assertThat(worker.properties()).isEmpty();
    assertThat(worker.offeredProperties())
        .isEqualTo(
            PlatformLexicon.detect(System.getProperty("os.name"), System.getProperty("os.arch")));
    assertThat(worker.workerSpec().properties().keySet())
        .isEqualTo(worker.offeredProperties().keySet());
  }

  @Test
  void lexiconPropertiesTheFileNamesKeepTheFilesValues() {
    WorkerConfig worker =
        WorkerConfig.parseStandalone(
            """
            { "properties": { "OSFamily": "Linux", "ISA": ["x86-64", "x86-avx2"], "pool": "a" } }
            """,
            "worker.json");

    assertThat(worker.offeredProperties())
        .containsOnly(
            entry("OSFamily", List.of("Linux")),
            entry("ISA", List.of("x86-64", "x86-avx2")),
            entry("pool", List.of("a")));
  }

  @Test
  void everyFieldBinds() {
    WorkerConfig worker =
        WorkerConfig.parseStandalone(
            """
            {
              "name": "mac-mini-3",
              "slots": 8,
              "properties": { "OSFamily": "Darwin", "pool": ["ios", "macos"] },
              "workDirectory": "/Volumes/build/work",
              "cache": { "path": "/Volumes/build/cache", "maxSize": "50GiB" },
            }
            """,
            "worker.json");

    assertThat(worker.name()).isEqualTo("mac-mini-3");
    assertThat(worker.scheduler()).isEmpty();
    assertThat(worker.instance()).isEmpty();
    assertThat(worker.slots()).isEqualTo(8);
    assertThat(worker.properties())
        .containsExactly(
            entry("OSFamily", List.of("Darwin")), entry("pool", List.of("ios", "macos")));
    assertThat(worker.workDirectory()).isEqualTo(Path.of("/Volumes/build/work"));
    assertThat(worker.cachePath()).isEqualTo(Path.of("/Volumes/build/cache"));
    assertThat(worker.cacheMaxSizeBytes()).isEqualTo(50L << 30);
  }

  @Test
  void anEmptyObjectTakesEveryDefault() {
    WorkerConfig worker = onHost("build-7", "{}");

    assertThat(worker.name()).isEqualTo("build-7-" + PID);
    assertThat(worker.slots()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(worker.properties()).isEmpty();
    // Named after the host alone, so that the cache outlives the process.
    assertThat(worker.workDirectory()).isEqualTo(HOME.resolve(".cache/hearth/work/build-7"));
    assertThat(worker.cachePath()).isEqualTo(HOME.resolve(".cache/hearth/worker-cache/build-7"));
    assertThat(worker.cacheMaxSizeBytes()).isEqualTo(10L << 30);
  }

  @Test
  void aGivenNameNamesTheDefaultDirectories() {
    WorkerConfig worker = onHost("build-7", "{ \"name\": \"gpu-1\" }");

    assertThat(worker.name()).isEqualTo("gpu-1");
    assertThat(worker.workDirectory()).isEqualTo(HOME.resolve(".cache/hearth/work/gpu-1"));
    assertThat(worker.cachePath()).isEqualTo(HOME.resolve(".cache/hearth/worker-cache/gpu-1"));
  }

  @Test
  void aHostNameUnfitForADirectoryIsMadeSafe() {
    assertThat(onHost("..odd host/name", "{}").name()).isEqualTo("odd-host-name-" + PID);
    assertThat(onHost("", "{}").name()).isEqualTo("worker-" + PID);
  }

  @Test
  void withoutANameTheRealHostNameAndPidAreUsed() {
    WorkerConfig worker = WorkerConfig.parseStandalone("{}", "worker.json");

    assertThat(worker.name()).endsWith("-" + PID).hasSizeGreaterThan(("-" + PID).length());
  }

  @Test
  void workerSpecOfAStandaloneWorker() {
    WorkerConfig worker = onHost("h", "{ \"slots\": 2, \"properties\": { \"pool\": \"x\" } }");

    assertThat(worker.workerSpec().name()).isEqualTo("h-" + PID);
    assertThat(worker.workerSpec().slots()).isEqualTo(2);
  }

  @Test
  void loadStandaloneReadsAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("worker.json");
    Files.writeString(file, "// a comment\n{ \"name\": \"w\", \"slots\": 3 }\n");

    WorkerConfig worker = WorkerConfig.loadStandalone(file);

    assertThat(worker).isEqualTo(WorkerConfig.parseStandalone("{\"name\":\"w\",\"slots\":3}", "x"));
  }

  @Test
  void loadStandaloneNamesAMissingFile(@TempDir Path dir) {
    Path file = dir.resolve("absent.json");

    assertThatThrownBy(() -> WorkerConfig.loadStandalone(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "cannot read the configuration file " + file.toAbsolutePath() + ": no such file");
  }

  @Test
  void everyWorkerFileInTheManualIsValid() throws IOException {
    // Surefire runs in the module's directory; the manual is one level up.
    String manual = Files.readString(Path.of("..", "docs", "configuration.md"));
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("```json worker-config\n(.*?)```", Pattern.DOTALL).matcher(manual);
    while (m.find()) {
      blocks.add(m.group(1));
    }

    assertThat(blocks).isNotEmpty();
    for (String block : blocks) {
      assertThat(WorkerConfig.parseStandalone(block, "manual").name()).isNotEmpty();
    }
  }

  // ---- errors ----

  @Test
  void schedulerComesFromTheCommandLine() {
    ConfigException e = errorOf("{\n  \"name\": \"w\",\n  \"scheduler\": \"main\"\n}");

    assertThat(e.path()).isEqualTo("scheduler");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .isEqualTo(
            "scheduler (line 3): a standalone worker takes its scheduler from the command line"
                + " (--scheduler-endpoint http://HOST:50052); remove this field");
  }

  @Test
  void instanceComesFromTheCommandLine() {
    ConfigException e = errorOf("{\n  \"instance\": \"ci\"\n}");

    assertThat(e.path()).isEqualTo("instance");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo(
            "instance (line 2): a standalone worker serves the instance each assigned action"
                + " names; remove this field");
  }

  @Test
  void credentialsAreRelativeToTheWorkerFilesDirectory(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = java.nio.file.Files.createDirectories(dir.resolve("etc")).resolve("worker.json");
    java.nio.file.Files.writeString(
        file,
        """
        {"name": "w",
         "tls": {"caBundle": "certs/ca.pem", "clientCertificate": "certs/w.pem",
                 "clientKey": "/keys/w.key"},
         "tokenFile": "../secrets/w.token"}
        """);

    ClientCredentialsConfig credentials = WorkerConfig.loadStandalone(file).credentials();

    assertThat(credentials.caBundle()).contains(dir.resolve("etc/certs/ca.pem"));
    assertThat(credentials.clientCertificate()).contains(dir.resolve("etc/certs/w.pem"));
    assertThat(credentials.clientKey()).contains(Path.of("/keys/w.key"));
    assertThat(credentials.tokenFile()).contains(dir.resolve("secrets/w.token"));
  }

  @Test
  void noCredentialsByDefault() {
    ClientCredentialsConfig credentials = onHost("h", "{}").credentials();

    assertThat(credentials.caBundle()).isEmpty();
    assertThat(credentials.clientCertificate()).isEmpty();
    assertThat(credentials.tokenFile()).isEmpty();
  }

  @Test
  void aClientCertificateWithoutItsKeyIsAnError() {
    ConfigException e = errorOf("{\"tls\": {\"clientCertificate\": \"w.pem\"}}");

    assertThat(e.path()).isEqualTo("tls.clientCertificate");
    assertThat(e.getMessage()).contains("add \"clientKey\"");
  }

  @Test
  void unknownFieldListsTheStandaloneFields() {
    ConfigException e = errorOf("{\n  \"name\": \"w\",\n  \"slot\": 4\n}");

    assertThat(e.path()).isEqualTo("slot");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .isEqualTo(
            "slot (line 3): unknown field 'slot'; did you mean 'slots'? Known fields here: name,"
                + " slots, properties, workDirectory, cache, persistentWorkers, sandbox, tls, tokenFile,"
                + " maxMessageSize, maxDirectorySize");
  }

  @Test
  void emptyFileSaysWhatToWrite() {
    ConfigException e = errorOf("// nothing yet\n");

    assertThat(e.path()).isEmpty();
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.getMessage())
        .isEqualTo(
            "(root) (line 1): worker.json is empty; a worker's configuration is a JSON object"
                + " such as {\"slots\": 8}, and {} takes every default");
  }

  @Test
  void topLevelMustBeAnObject() {
    ConfigException e = errorOf("[ { \"name\": \"w\" } ]");

    assertThat(e.path()).isEmpty();
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.getMessage())
        .isEqualTo(
            "(root) (line 1): expected a JSON object at the top of worker.json, found an array");
  }

  @Test
  void badName() {
    ConfigException e = errorOf("{\n  \"name\": \"../w\"\n}");

    assertThat(e.path()).isEqualTo("name");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("a worker name may contain only letters, digits");
  }

  @Test
  void slotsMustBePositive() {
    ConfigException e = errorOf("{ \"name\": \"w\",\n  \"slots\": 0 }");

    assertThat(e.path()).isEqualTo("slots");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo("slots (line 2): a worker needs at least 1 slot, found the number 0");
  }

  @Test
  void anyPropertyIsAcceptedSinceTheSchedulerIsNotKnownHere() {
    WorkerConfig worker =
        WorkerConfig.parseStandalone(
            "{ \"name\": \"w\", \"properties\": { \"cpu_count\": \"many\" } }", "worker.json");

    assertThat(worker.properties()).containsEntry("cpu_count", List.of("many"));
  }

  @Test
  void propertyValuesMustBeStrings() {
    ConfigException e = errorOf("{ \"name\": \"w\", \"properties\": {\n  \"cpu_count\": 4 } }");

    assertThat(e.path()).isEqualTo("properties.cpu_count");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .endsWith(
            "expected a string or an array of strings (numbers in quotes, as in \"8\"), found the"
                + " number 4");
  }

  @Test
  void cacheInTheWorkDirectory() {
    ConfigException e =
        errorOf(
            "{ \"name\": \"w\", \"workDirectory\": \"/b\",\n"
                + "  \"cache\": { \"path\": \"/b/\" } }");

    assertThat(e.path()).isEqualTo("cache.path");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo(
            "cache.path (line 2): /b is also workDirectory (line 1); every workDirectory and"
                + " cache path needs a directory of its own");
  }

  @Test
  void cacheSizeTooSmall() {
    ConfigException e = errorOf("{ \"name\": \"w\", \"cache\": {\n  \"maxSize\": 1024 } }");

    assertThat(e.path()).isEqualTo("cache.maxSize");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo(
            "cache.maxSize (line 2): must be at least 1MiB (1048576 bytes), found the number 1024"
                + " (1024 bytes)");
  }
}
