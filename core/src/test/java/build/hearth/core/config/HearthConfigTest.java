package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import build.hearth.api.ConfigException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.core.scheduler.PropertyType;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.transport.ServerLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HearthConfigTest {
  private static final long DIRECTORY = InstanceConfig.DEFAULT_MAX_DIRECTORY_BYTES;
  private static final long TREE = InstanceConfig.DEFAULT_MAX_TREE_BYTES;

  @Test
  void embeddedDefaultServesTheDefaultInstanceFromDisk() {
    HearthConfig config = HearthConfig.embeddedDefault();

    StoreConfig cas = config.blobStores().get("cas");
    assertThat(config.blobStores()).containsOnlyKeys("cas");
    assertThat(cas.type()).isEqualTo("filesystem");
    assertThat(cas.typePath()).isEqualTo("blobStores.cas.type");
    assertThat(cas.typeLine()).isEqualTo(4);
    assertThat(cas.settings().path()).isEqualTo("blobStores.cas");
    assertThat(cas.settings().get("path")).isEqualTo("~/.cache/hearth/cas");
    assertThat(cas.settings().bytes("maxSize")).hasValue(10L << 30);

    StoreConfig ac = config.actionCacheStores().get("ac");
    assertThat(config.actionCacheStores()).containsOnlyKeys("ac");
    assertThat(ac.type()).isEqualTo("filesystem");
    assertThat(ac.settings().get("path")).isEqualTo("~/.cache/hearth/ac");
    assertThat(ac.settings().bytes("maxSize")).hasValue(512L << 20);

    assertThat(config.schedulers())
        .containsExactly(
            entry(
                "main",
                new SchedulerConfig(
                    "main",
                    Map.of(
                        "OSFamily", PropertyType.EXACT,
                        "ISA", PropertyType.EXACT,
                        "cpu_count", PropertyType.MINIMUM,
                        "pool", PropertyType.EXACT,
                        "persistentWorkerKey", PropertyType.IGNORE,
                        "persistentWorkerTool", PropertyType.IGNORE,
                        "persistentWorkerProtocol", PropertyType.IGNORE,
                        "persistentWorkerMultiplex", PropertyType.IGNORE,
                        "cache-silo-key", PropertyType.IGNORE),
                    null,
                    Duration.ofHours(1),
                    3)));
    assertThat(config.schedulers().get("main").propertyTypes().keySet())
        .containsExactly(
            "OSFamily",
            "ISA",
            "cpu_count",
            "pool",
            "persistentWorkerKey",
            "persistentWorkerTool",
            "persistentWorkerProtocol",
            "persistentWorkerMultiplex",
            "cache-silo-key");

    ExecutionConfig execution =
        new ExecutionConfig("main", Duration.ofMinutes(15), Duration.ofHours(3));
    assertThat(config.servers())
        .containsExactly(
            new ServerConfig(
                "main",
                "127.0.0.1",
                50052,
                4L << 20,
                Map.of("", new InstanceConfig("", "cas", "ac", true, execution, DIRECTORY, TREE)),
                new WorkerApiConfig("main"),
                ServerConfig.DEFAULT_TRANSPORT,
                0,
                AccessConfig.NONE,
                null,
                ServerLimits.DEFAULTS));

    Path cache = Path.of(System.getProperty("user.home"), ".cache", "hearth");
    assertThat(config.workers())
        .containsExactly(
            new WorkerConfig(
                "local",
                "main",
                "",
                Runtime.getRuntime().availableProcessors(),
                Map.of(),
                cache.resolve("work/local"),
                cache.resolve("worker-cache/local"),
                10L << 30,
                PersistentWorkersConfig.defaults(Runtime.getRuntime().availableProcessors())));
    // The default worker offers the REAPI lexicon's values of the machine it runs on.
    assertThat(config.workers().get(0).offeredProperties())
        .isEqualTo(
            PlatformLexicon.detect(System.getProperty("os.name"), System.getProperty("os.arch")));
  }

  @Test
  void manualShowsTheEmbeddedDefaultVerbatim() throws IOException {
    // docs/configuration.md quotes the embedded default; this keeps the two from drifting apart.
    String embedded = resourceText("/build/hearth/core/config/default-config.json");

    assertThat(manual()).contains("```jsonc config\n" + embedded + "```\n");
  }

  @Test
  void everyConfigurationInTheManualIsValid() throws IOException {
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("```jsonc config\n(.*?)```", Pattern.DOTALL).matcher(manual());
    while (m.find()) {
      blocks.add(m.group(1));
    }

    assertThat(blocks).hasSizeGreaterThanOrEqualTo(2);
    for (String block : blocks) {
      assertThat(HearthConfig.parse(block, "manual").servers()).isNotEmpty();
    }
  }

  @Test
  void commentsAndTrailingCommasAreAccepted() {
    HearthConfig config =
        HearthConfig.parse(
            """
            // line comment before the document
            {
              /* block comment */
              "blobStores": { "cas": { "type": "memory", }, },
              "servers": [
                {
                  "listen": "127.0.0.1:0", // after a value
                  "instances": { "": { "cas": "cas", /* inside */ }, },
                },
              ],
            }
            /* and one after it */
            """,
            "commented.json");

    assertThat(config.servers()).hasSize(1);
    assertThat(config.servers().get(0).instances()).containsOnlyKeys("");
    assertThat(config.blobStores().get("cas").typeLine()).isEqualTo(4);
  }

  @Test
  void defaultsApplyWhenOptionalFieldsAreAbsent() {
    HearthConfig config =
        HearthConfig.parse(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [
                { "listen": "localhost:0", "instances": { "": { "cas": "cas" } } },
                { "listen": "localhost:0", "instances": { "": { "cas": "cas" } } }
              ]
            }
            """,
            "minimal.json");

    assertThat(config.actionCacheStores()).isEmpty();
    assertThat(config.schedulers()).isEmpty();
    assertThat(config.workers()).isEmpty();
    ServerConfig second = config.servers().get(1);
    assertThat(second.name()).isEqualTo("server-1");
    assertThat(second.maxBatchSizeBytes()).isEqualTo(ServerConfig.DEFAULT_MAX_BATCH_SIZE_BYTES);
    InstanceConfig instance = second.instances().get("");
    assertThat(instance.actionCacheStore()).isEmpty();
    assertThat(instance.actionCacheUpdates()).isTrue();
    assertThat(instance.execution()).isEmpty();
    assertThat(second.workerApi()).isEmpty();
  }

  @Test
  void realisticMultiInstanceConfigBindsToTheModel() {
    HearthConfig config =
        HearthConfig.parse(resource("multi-instance.json"), "multi-instance.json");

    assertThat(config.blobStores().keySet()).containsExactly("shared", "scratch", "team.tier2");
    assertThat(config.actionCacheStores().keySet()).containsExactly("ac");

    StoreConfig tier2 = config.blobStores().get("team.tier2");
    assertThat(tier2.type()).isEqualTo("example-remote");
    assertThat(tier2.typePath()).isEqualTo("blobStores.\"team.tier2\".type");
    assertThat(tier2.typeLine()).isEqualTo(13);
    StoreSettings settings = tier2.settings();
    assertThat(settings.path()).isEqualTo("blobStores.\"team.tier2\"");
    assertThat(settings.get("endpoints")).isEqualTo(List.of("a.example:9000", "b.example:9000"));
    assertThat(settings.get("timeoutSeconds")).isEqualTo(2.5);
    assertThat(settings.get("tls")).isEqualTo(Map.of("enabled", true, "ca", "/etc/ssl/ca.pem"));
    assertThat(settings.error("tls", "x").line()).isEqualTo(16);
    assertThat(config.blobStores().get("scratch").settings().bytes("maxSize")).hasValue(1L << 30);

    ServerConfig ci = config.servers().get(0);
    assertThat(ci.name()).isEqualTo("ci");
    assertThat(ci.host()).isEqualTo("0.0.0.0");
    assertThat(ci.port()).isEqualTo(50052);
    assertThat(ci.maxBatchSizeBytes()).isEqualTo(16L << 20);
    assertThat(ci.instances())
        .containsExactly(
            entry("", new InstanceConfig("", "shared", "ac", true, null, DIRECTORY, TREE)),
            entry(
                "ci/linux-x86_64",
                new InstanceConfig("ci/linux-x86_64", "shared", "ac", true, null, DIRECTORY, TREE)),
            entry(
                "experiments",
                new InstanceConfig("experiments", "scratch", null, true, null, DIRECTORY, TREE)));

    ServerConfig dev = config.servers().get(1);
    assertThat(dev.name()).isEqualTo("server-1");
    assertThat(dev.host()).isEqualTo("::1");
    assertThat(dev.port()).isEqualTo(50053);
    assertThat(dev.listenAddress()).isEqualTo("[::1]:50053");
    assertThat(dev.maxBatchSizeBytes()).isEqualTo(1L << 20);
    assertThat(dev.instances().get("dev").actionCacheStore()).isEqualTo(Optional.of("ac"));
    assertThat(dev.instances().get("dev").actionCacheUpdates()).isFalse();
    assertThat(dev.instances().get("tier2").casStore()).isEqualTo("team.tier2");
  }

  @Test
  void modelCollectionsAreUnmodifiable() throws IOException {
    HearthConfig config = HearthConfig.embeddedDefault();

    assertThatThrownBy(() -> config.servers().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.blobStores().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.servers().get(0).instances().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.schedulers().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.schedulers().get("main").propertyTypes().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> config.workers().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    // The embedded default's worker names no properties (it offers the detected ones), so its
    // lists are checked on the default with one property named.
    HearthConfig named =
        HearthConfig.parse(
            resourceText("/build/hearth/core/config/default-config.json")
                .replace("\"properties\": {},", "\"properties\": { \"OSFamily\": [\"Linux\"] },"),
            "default with a property");
    assertThatThrownBy(() -> named.workers().get(0).properties().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> named.workers().get(0).properties().get("OSFamily").clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> named.workers().get(0).offeredProperties().get("OSFamily").clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void loadReadsAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("hearth.json");
    Files.writeString(file, resource("multi-instance.json"));

    assertThat(HearthConfig.load(file))
        .isEqualTo(HearthConfig.parse(resource("multi-instance.json"), "copy"));
  }

  @Test
  void loadNamesAMissingFile(@TempDir Path dir) {
    Path file = dir.resolve("absent.json");

    assertThatThrownBy(() -> HearthConfig.load(file))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.path()).isEmpty();
              assertThat(e.line()).isZero();
              assertThat(e.getMessage())
                  .isEqualTo(
                      "cannot read the configuration file "
                          + file.toAbsolutePath()
                          + ": no such file");
            });
  }

  @Test
  void loadRefusesADirectory(@TempDir Path dir) {
    assertThatThrownBy(() -> HearthConfig.load(dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(dir.toAbsolutePath().toString())
        .hasMessageEndingWith("it is a directory");
  }

  @Test
  void loadRefusesTextThatIsNotUtf8(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("latin1.json");
    Files.write(file, "{\"servers\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));

    assertThatThrownBy(() -> HearthConfig.load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(file.toAbsolutePath().toString())
        .hasMessageEndingWith("it is not UTF-8 text");
  }

  @Test
  void twoConfigurationsAreIndependent() {
    HearthConfig a = HearthConfig.embeddedDefault();
    HearthConfig b = HearthConfig.embeddedDefault();

    assertThat(a).isEqualTo(b).isNotSameAs(b);
    assertThat(a.hashCode()).isEqualTo(b.hashCode());
  }

  private static String manual() throws IOException {
    // Surefire runs in the module's directory; the manual is one level up.
    return Files.readString(Path.of("..", "docs", "configuration.md"));
  }

  private static String resourceText(String name) {
    try (var in = HearthConfigTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
