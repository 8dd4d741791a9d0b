package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.api.Digest;
import build.hearth.core.ConfiguredStores;
import build.hearth.core.config.HearthConfig;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code tiered} store read from a configuration file, through the providers {@link
 * java.util.ServiceLoader} finds: the nested stores open, and every mistake in them is reported
 * with its full path and line.
 */
class TieredBlobStoreConfigTest {
  @TempDir Path dir;

  /** Opens the stores of {@code json}, given a server that uses the store {@code main}. */
  private static ConfiguredStores open(String json) {
    String document = json.strip();
    // Appended on the last line, so the lines of the stores stay what the test says.
    document =
        document.substring(0, document.length() - 1)
            + ", \"actionCacheStores\": {\"ac\": {\"type\": \"memory\"}}, \"servers\": [{\"listen\":"
            + " \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\": \"main\", \"actionCache\":"
            + " \"ac\"}}}]}";
    return ConfiguredStores.open(
        HearthConfig.parse(document, "test.json"),
        StoreProviderRegistry.discover(TieredBlobStoreConfigTest.class.getClassLoader()),
        Clock.systemUTC());
  }

  private static ConfigException errorOf(String json) {
    try (ConfiguredStores stores = open(json)) {
      throw new AssertionError("expected a configuration error, opened " + stores);
    } catch (ConfigException e) {
      return e;
    }
  }

  @Test
  void aConfiguredTieredStoreOpensBothTiers() throws Exception {
    String json =
        """
        {
          "blobStores": {
            "main": {
              "type": "tiered",
              "local": {"type": "filesystem", "path": "%s", "maxSize": "1MiB"},
              "shared": {"type": "memory", "maxSize": "4MiB"}
            }
          }
        }
        """
            .formatted(dir);
    byte[] content = "through both tiers".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(content);

    try (ConfiguredStores stores = open(json)) {
      BlobStore store = stores.blobStore("main");
      try (BlobStore.Upload upload = store.startUpload(digest)) {
        upload.write(content, 0, content.length);
        upload.commit();
      }
      assertThat(store).isInstanceOf(TieredBlobStore.class);
      assertThat(store.stats().capacityBytes()).as("the shared tier's").isEqualTo(4L << 20);
      assertThat(((TieredBlobStore) store).localStats().capacityBytes()).isEqualTo(1L << 20);
    }

    assertThat(dir.resolve("blobs/" + digest.hash().substring(0, 2) + "/" + digest.hash()))
        .as("the local tier's file")
        .hasBinaryContent(content);
  }

  @Test
  void aNestedStoreWithoutATypeNamesTheFieldPath() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": {
                "main": {
                  "type": "tiered",
                  "local": {"type": "memory"},
                  "shared": {"maxSize": "1GiB"}
                }
              }
            }
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.shared.type");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .startsWith("blobStores.main.shared.type (line 6): missing required field 'type'");
  }

  @Test
  void anUnknownNestedTypeNamesItsPathAndLineAndTheKnownTypes() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": {
                "main": {
                  "type": "tiered",
                  "local": {"type": "memory"},
                  "shared": {
                    "type": "redis-cluster"
                  }
                }
              }
            }
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.shared.type");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage())
        .contains("unknown blob store type 'redis-cluster'")
        .contains("memory")
        .contains("tiered");
  }

  @Test
  void aBadNestedSettingNamesItsFullPathAndLine() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": {
                "main": {
                  "type": "tiered",
                  "local": {
                    "type": "memory",
                    "maxSize": "lots"
                  },
                  "shared": {"type": "memory"}
                }
              }
            }
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.local.maxSize");
    assertThat(e.line()).isEqualTo(7);
  }

  @Test
  void anUnknownNestedFieldIsRefusedWithItsFullPath() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": {
                "main": {
                  "type": "tiered",
                  "local": {"type": "memory", "maxSzie": "1GiB"},
                  "shared": {"type": "memory"}
                }
              }
            }
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.local.maxSzie");
    assertThat(e.getMessage()).contains("unknown field").contains("maxSize");
  }

  @Test
  void aMissingTierIsRequired() {
    ConfigException e =
        errorOf(
            """
            {"blobStores": {"main": {"type": "tiered", "local": {"type": "memory"}}}}
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.shared");
    assertThat(e.getMessage()).contains("is required");
  }

  @Test
  void aTierThatIsNotAnObjectIsRefused() {
    ConfigException e =
        errorOf(
            """
            {"blobStores": {"main": {"type": "tiered", "local": "memory", "shared": {}}}}
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.local");
    assertThat(e.getMessage()).contains("expected an object, found the string \"memory\"");
  }

  @Test
  void anUnknownTieredFieldIsRefused() {
    ConfigException e =
        errorOf(
            """
            {"blobStores": {"main": {"type": "tiered", "local": {"type": "memory"},
              "shared": {"type": "memory"}, "remote": {"type": "memory"}}}}
            """);

    assertThat(e.path()).isEqualTo("blobStores.main.remote");
    assertThat(e.getMessage()).contains("take: local, shared");
  }

  @Test
  void aFailingSharedTierClosesTheLocalTierItOpened() throws Exception {
    String json =
        """
        {"blobStores": {"main": {"type": "tiered",
          "local": {"type": "filesystem", "path": "%s"},
          "shared": {"type": "memory", "maxSize": 0}}}}
        """
            .formatted(dir);

    ConfigException e = errorOf(json);

    assertThat(e.path()).isEqualTo("blobStores.main.shared.maxSize");
    // The local tier's directory lock was released: the directory opens again.
    assertThat(Files.exists(dir.resolve("blob-store.lock"))).isTrue();
    new FilesystemBlobStoreProvider()
        .create(
            StoreContext.newBuilder(
                    "again", StoreSettings.of("blobStores.again", Map.of("path", dir.toString())))
                .build())
        .close();
  }

  @Test
  void aContextBuiltByHandCannotOpenNestedStores() {
    StoreContext context =
        StoreContext.newBuilder(
                "main",
                StoreSettings.of(
                    "blobStores.main",
                    Map.of("local", Map.of("type", "memory"), "shared", Map.of("type", "memory"))))
            .build();

    assertThatThrownBy(() -> new TieredBlobStoreProvider().create(context))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("StoreProviderRegistry.createBlobStore");
  }
}
