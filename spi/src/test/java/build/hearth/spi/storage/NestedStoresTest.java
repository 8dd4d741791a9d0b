package build.hearth.spi.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.api.Digest;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link StoreSettings#nested} and {@link StoreContext#openBlobStore}: a store built from stores
 * nested in its settings, opened through the registry creating it, with errors at full paths.
 */
class NestedStoresTest {

  /** A store that only remembers how it was made. */
  private static final class Leaf implements BlobStore {
    final String name;
    final long size;
    boolean closed;

    Leaf(String name, long size) {
      this.name = name;
      this.size = size;
    }

    @Override
    public boolean contains(Digest digest) {
      return false;
    }

    @Override
    public Optional<InputStream> read(Digest digest, long offset) {
      return Optional.empty();
    }

    @Override
    public Upload startUpload(Digest digest) {
      throw new UnsupportedOperationException();
    }

    @Override
    public StoreStats stats() {
      return new StoreStats(0, 0, size, 0, 0);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private final List<Leaf> opened = new ArrayList<>();

  private final BlobStoreProvider leaf =
      new BlobStoreProvider() {
        @Override
        public String type() {
          return "leaf";
        }

        @Override
        public BlobStore create(StoreContext context) {
          Leaf store = new Leaf(context.name(), context.settings().bytes("size").orElse(1));
          opened.add(store);
          return store;
        }
      };

  /** A store whose whole job is its nested store {@code inner}. */
  private final BlobStoreProvider box =
      new BlobStoreProvider() {
        @Override
        public String type() {
          return "box";
        }

        @Override
        public BlobStore create(StoreContext context) {
          return context.openBlobStore("inner");
        }
      };

  private final StoreProviderRegistry registry =
      StoreProviderRegistry.of(List.of(leaf, box), List.of());

  private BlobStore open(Map<String, ?> settings, Map<String, Integer> lines) {
    StoreContext context =
        StoreContext.newBuilder("outer", StoreSettings.of("blobStores.outer", settings, lines))
            .build();
    return registry.createBlobStore("box", "blobStores.outer.type", 1, context);
  }

  @Test
  void aNestedStoreIsOpenedByTheRegistryWithItsOwnNameAndSettings() {
    BlobStore store = open(Map.of("inner", Map.of("type", "leaf", "size", 42)), Map.of());

    assertThat(store).isInstanceOf(Leaf.class);
    assertThat(((Leaf) store).name).isEqualTo("outer.inner");
    assertThat(store.stats().capacityBytes()).isEqualTo(42);
  }

  @Test
  void storesNestTwoDeep() {
    BlobStore store =
        open(Map.of("inner", Map.of("type", "box", "inner", Map.of("type", "leaf"))), Map.of());

    assertThat(((Leaf) store).name).isEqualTo("outer.inner.inner");
  }

  @Test
  void errorsInANestedStoreNameTheFullPathAndTheLineTheHostRecorded() {
    assertThatThrownBy(
            () ->
                open(
                    Map.of("inner", Map.of("type", "leaf", "size", "huge")),
                    Map.of("inner", 3, "inner.type", 4, "inner.size", 5)))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.outer.inner.size");
              assertThat(e.line()).isEqualTo(5);
            });
    assertThatThrownBy(() -> open(Map.of("inner", Map.of("type", "twig")), Map.of("inner.type", 4)))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.outer.inner.type");
              assertThat(e.line()).isEqualTo(4);
              assertThat(e.getMessage()).contains("unknown blob store type 'twig'");
            });
  }

  @Test
  void anUnknownNestedFieldClosesTheNestedStore() {
    assertThatThrownBy(() -> open(Map.of("inner", Map.of("type", "leaf", "sise", 1)), Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.path()).isEqualTo("blobStores.outer.inner.sise"));
    assertThat(opened).hasSize(1);
    assertThat(opened.get(0).closed).isTrue();
  }

  @Test
  void nestedReadsAnObjectAndRefusesAnythingElse() {
    StoreSettings settings =
        StoreSettings.of("blobStores.s", Map.of("tls", Map.of("ca", "/etc/ca.pem"), "port", 1));

    assertThat(settings.nested("tls").orElseThrow().requireString("ca")).isEqualTo("/etc/ca.pem");
    assertThat(settings.nested("absent")).isEmpty();
    assertThatThrownBy(() -> settings.nested("port"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.path()).isEqualTo("blobStores.s.port");
              assertThat(e.getMessage()).contains("expected an object, found the number 1");
            });
  }
}
