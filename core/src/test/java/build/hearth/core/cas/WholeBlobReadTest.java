package build.hearth.core.cas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link ContentAddressableStorage#get} reads exactly the digest's size, and a store that hands out
 * fewer or more bytes than that is DATA_LOSS naming how many it held.
 */
class WholeBlobReadTest {
  private static final byte[] CONTENT = "twelve bytes".getBytes(StandardCharsets.UTF_8);
  private static final Digest DIGEST = Digest.of(CONTENT);

  /** A store that answers every read with {@code bytes}, whatever the digest says. */
  private static BlobStore storeHolding(byte[] bytes) {
    return new BlobStore() {
      @Override
      public boolean contains(Digest digest) {
        return true;
      }

      @Override
      public Optional<InputStream> read(Digest digest, long offset) {
        return Optional.of(new ByteArrayInputStream(bytes));
      }

      @Override
      public Upload startUpload(Digest digest) {
        throw new UnsupportedOperationException();
      }

      @Override
      public StoreStats stats() {
        throw new UnsupportedOperationException();
      }

      @Override
      public void close() {}
    };
  }

  private static ContentAddressableStorage cas(byte[] stored) {
    return CasFactory.cas(storeHolding(stored), DirectoryBlobs.DEFAULTS);
  }

  @Test
  void readsExactlyTheBlob() {
    assertThat(cas(CONTENT).get(DIGEST)).isEqualTo(ByteString.copyFrom(CONTENT));
  }

  @Test
  void aShorterStoredBlobIsDataLossNamingItsSize() {
    byte[] shorter = "twelve".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> cas(shorter).get(DIGEST))
        .isInstanceOf(HearthException.class)
        .satisfies(e -> assertThat(((HearthException) e).code()).isEqualTo(StatusCode.DATA_LOSS))
        .hasMessageContaining("holds 6 bytes in the store");
  }

  @Test
  void aLongerStoredBlobIsDataLossNamingItsSize() {
    byte[] longer = "twelve bytes and more".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> cas(longer).get(DIGEST))
        .isInstanceOf(HearthException.class)
        .satisfies(e -> assertThat(((HearthException) e).code()).isEqualTo(StatusCode.DATA_LOSS))
        .hasMessageContaining("holds 21 bytes in the store");
  }
}
