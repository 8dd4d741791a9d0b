package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Storage;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.FakeClock;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UploadSessionsTest {
  private final FakeClock clock = new FakeClock();
  private final BlobStore store =
      StoreProviderRegistry.discover(getClass().getClassLoader())
          .createBlobStore(
              "memory",
              "cas.type",
              0,
              StoreContext.newBuilder("cas", StoreSettings.of("cas", Map.of())).build());
  private final ContentAddressableStorage cas = Storage.cas(store);
  private final UploadSessions sessions = new UploadSessions(clock, Duration.ofMinutes(10), 2);
  private final ByteString data = ByteString.copyFromUtf8("0123456789");
  private final Digest digest = Digest.of(data.toByteArray());

  @AfterEach
  void close() {
    sessions.close();
    store.close();
  }

  @Test
  void sessionKeepsItsProgressAcrossStreams() {
    Object first = new Object();
    UploadSessions.Session session = sessions.attach("n", first, () -> cas.startUpload(digest));
    session.upload().write(data.substring(0, 4));
    session.wrote();
    sessions.release(session, first);

    Object second = new Object();
    UploadSessions.Session again = sessions.attach("n", second, () -> cas.startUpload(digest));
    assertThat(again).isSameAs(session);
    assertThat(again.committedSize()).isEqualTo(4);
    again.upload().write(data.substring(4));
    again.upload().commit();
    sessions.discard(again);
    assertThat(sessions.size()).isZero();
    assertThat(cas.get(digest)).isEqualTo(data);
  }

  @Test
  void attachedSessionIsNotSharedNorExpired() {
    UploadSessions.Session session = sessions.attach("n", "a", () -> cas.startUpload(digest));
    assertThatThrownBy(() -> sessions.attach("n", "b", () -> cas.startUpload(digest)))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.ABORTED));
    clock.advance(Duration.ofHours(1));
    assertThat(sessions.sweep()).isZero();
    sessions.release(session, "a");
    assertThat(sessions.sweep()).isZero();
    clock.advance(Duration.ofMinutes(10));
    assertThat(sessions.sweep()).isEqualTo(1);
    assertThat(sessions.find("n")).isEmpty();
  }

  @Test
  void releaseByAStreamThatIsNotAttachedChangesNothing() {
    sessions.attach("n", "a", () -> cas.startUpload(digest));
    sessions.release(sessions.find("n").orElseThrow(), "b");
    assertThat(sessions.isIdle("n")).isFalse();
  }

  @Test
  void boundCountsSessions() {
    sessions.attach("one", "a", () -> cas.startUpload(digest));
    UploadSessions.Session two = sessions.attach("two", "b", () -> cas.startUpload(digest));
    assertThatThrownBy(() -> sessions.attach("three", "c", () -> cas.startUpload(digest)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED));
    sessions.discard(two);
    BlobUpload[] started = new BlobUpload[1];
    sessions.attach("three", "c", () -> started[0] = cas.startUpload(digest));
    assertThat(started[0]).isNotNull();
  }
}
