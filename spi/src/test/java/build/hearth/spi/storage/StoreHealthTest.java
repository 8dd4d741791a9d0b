package build.hearth.spi.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.InputStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StoreHealthTest {
  @Test
  void theDefaultHealthIsWhatTheStatisticsSay() {
    Store store = new Store();
    assertThat(store.health()).isEqualTo(StoreHealth.healthy());
    assertThat(store.health().problem()).isEmpty();

    store.failure = new HearthException(StatusCode.UNAVAILABLE, "disk gone");
    assertThat(store.health().isHealthy()).isFalse();
    assertThat(store.health().problem()).hasValue("disk gone");
    assertThat(store.health()).hasToString("unavailable: disk gone");
  }

  @Test
  void anUnavailableStoreNamesItsProblem() {
    assertThatThrownBy(() -> StoreHealth.unavailable(" "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(StoreHealth.unavailable("x")).isEqualTo(StoreHealth.unavailable("x"));
    assertThat(StoreHealth.healthy()).hasToString("healthy");
  }

  private static final class Store implements BlobStore {
    RuntimeException failure;

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
      if (failure != null) {
        throw failure;
      }
      return new StoreStats(0, 0, 1, 0, 0);
    }

    @Override
    public void close() {}
  }
}
