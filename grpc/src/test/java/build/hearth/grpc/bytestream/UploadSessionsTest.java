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
import build.hearth.spi.transport.ServerLimits;
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
  private final UploadSessions sessions =
      new UploadSessions(
          clock,
          ServerLimits.newBuilder()
              .uploadIdleTimeout(Duration.ofMinutes(10))
              .uploadStallTimeout(Duration.ofMinutes(1))
              .maxUploadSessions(3)
              .maxUploadSessionsPerClient(2)
              .build());
  private final UploadSessions.Writer a = timeout -> {};
  private final UploadSessions.Writer b = timeout -> {};
  private final UploadSessions.Writer c = timeout -> {};
  private final ByteString data = ByteString.copyFromUtf8("0123456789");
  private final Digest digest = Digest.of(data.toByteArray());

  @AfterEach
  void close() {
    sessions.close();
    store.close();
  }

  @Test
  void sessionKeepsItsProgressAcrossStreams() {
    UploadSessions.Writer first = timeout -> {};
    UploadSessions.Session session =
        sessions.attach("n", "c1", first, () -> cas.startUpload(digest));
    session.upload().write(data.substring(0, 4));
    session.wrote();
    sessions.release(session, first);

    UploadSessions.Writer second = timeout -> {};
    UploadSessions.Session again =
        sessions.attach("n", "c1", second, () -> cas.startUpload(digest));
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
    UploadSessions.Session session = sessions.attach("n", "c1", a, () -> cas.startUpload(digest));
    assertThatThrownBy(() -> sessions.attach("n", "c1", b, () -> cas.startUpload(digest)))
        .isInstanceOfSatisfying(
            HearthException.class, e -> assertThat(e.code()).isEqualTo(StatusCode.ABORTED));
    clock.advance(Duration.ofHours(1));
    assertThat(sessions.sweep()).isZero();
    sessions.release(session, a);
    assertThat(sessions.sweep()).isZero();
    clock.advance(Duration.ofMinutes(10));
    assertThat(sessions.sweep()).isEqualTo(1);
    assertThat(sessions.find("n")).isEmpty();
  }

  @Test
  void releaseByAStreamThatIsNotAttachedChangesNothing() {
    sessions.attach("n", "c1", a, () -> cas.startUpload(digest));
    sessions.release(sessions.find("n").orElseThrow(), b);
    assertThat(sessions.isIdle("n")).isFalse();
  }

  @Test
  void serverBoundCountsSessionsOfAllClients() {
    sessions.attach("one", "c1", a, () -> cas.startUpload(digest));
    UploadSessions.Session two = sessions.attach("two", "c2", b, () -> cas.startUpload(digest));
    sessions.attach("four", "c4", c, () -> cas.startUpload(digest));
    assertThatThrownBy(() -> sessions.attach("three", "c3", c, () -> cas.startUpload(digest)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
              assertThat(e.limit()).contains("upload_sessions");
              assertThat(e.retryAfter()).isPresent();
              assertThat(e.getMessage()).contains("limits.maxUploadSessions is 3");
            });
    sessions.discard(two);
    BlobUpload[] started = new BlobUpload[1];
    sessions.attach("three", "c3", c, () -> started[0] = cas.startUpload(digest));
    assertThat(started[0]).isNotNull();
  }

  @Test
  void oneClientAtItsBoundDoesNotStopAnother() {
    UploadSessions.Session first = sessions.attach("one", "c1", a, () -> cas.startUpload(digest));
    sessions.attach("two", "c1", b, () -> cas.startUpload(digest));
    BlobUpload[] refused = new BlobUpload[1];
    assertThatThrownBy(
            () -> sessions.attach("three", "c1", c, () -> refused[0] = cas.startUpload(digest)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
              assertThat(e.limit()).contains("upload_sessions_per_client");
              assertThat(e.retryAfter()).isPresent();
              assertThat(e.getMessage())
                  .contains("client c1", "limits.maxUploadSessionsPerClient is 2");
            });
    assertThat(refused[0]).as("no upload started for a refused session").isNull();

    // Another client still gets its upload, and the first gets one back when a session ends.
    sessions.attach("other", "c2", c, () -> cas.startUpload(digest));
    assertThat(sessions.sessionsOf("c2")).isEqualTo(1);
    sessions.discard(first);
    assertThat(sessions.sessionsOf("c1")).isEqualTo(1);
    sessions.discardIfIdle("other");
    assertThat(sessions.sessionsOf("c2")).isEqualTo(1); // still attached, so kept
  }

  @Test
  void resumingCountsAgainstNoBound() {
    UploadSessions.Session one = sessions.attach("one", "c1", a, () -> cas.startUpload(digest));
    sessions.attach("two", "c1", b, () -> cas.startUpload(digest));
    sessions.release(one, a);
    assertThat(sessions.attach("one", "c1", c, () -> cas.startUpload(digest))).isSameAs(one);
    assertThat(sessions.sessionsOf("c1")).isEqualTo(2);
  }

  @Test
  void aStalledStreamIsEndedAndItsSessionStaysResumable() {
    Duration[] stalledAfter = new Duration[1];
    UploadSessions.Writer silent = timeout -> stalledAfter[0] = timeout;
    UploadSessions.Session session =
        sessions.attach("n", "c1", silent, () -> cas.startUpload(digest));
    assertThat(sessions.beginWrite(session, silent)).isTrue();
    session.upload().write(data.substring(0, 4));
    session.wrote();
    sessions.endWrite(session);

    clock.advance(Duration.ofSeconds(59));
    assertThat(sessions.sweep()).isZero();
    assertThat(stalledAfter[0]).isNull();
    assertThat(sessions.isIdle("n")).isFalse();

    clock.advance(Duration.ofSeconds(1));
    assertThat(sessions.sweep()).isZero();
    assertThat(stalledAfter[0]).isEqualTo(Duration.ofMinutes(1));
    assertThat(sessions.isIdle("n")).isTrue();
    // The ended stream may no longer write; a new one resumes where it stopped.
    assertThat(sessions.beginWrite(session, silent)).isFalse();
    UploadSessions.Session resumed = sessions.attach("n", "c1", a, () -> cas.startUpload(digest));
    assertThat(resumed).isSameAs(session);
    assertThat(resumed.committedSize()).isEqualTo(4);

    // Left idle, it ends after the idle timeout like any other.
    sessions.release(resumed, a);
    clock.advance(Duration.ofMinutes(10));
    assertThat(sessions.sweep()).isEqualTo(1);
    assertThat(sessions.sessionsOf("c1")).isZero();
  }

  @Test
  void aStreamInTheMiddleOfAWriteIsNotEnded() {
    boolean[] stalled = new boolean[1];
    UploadSessions.Writer slow = timeout -> stalled[0] = true;
    UploadSessions.Session session =
        sessions.attach("n", "c1", slow, () -> cas.startUpload(digest));
    assertThat(sessions.beginWrite(session, slow)).isTrue();
    clock.advance(Duration.ofHours(1));
    assertThat(sessions.sweep()).isZero();
    assertThat(stalled[0]).isFalse();
    sessions.endWrite(session);
    clock.advance(Duration.ofMinutes(1));
    sessions.sweep();
    assertThat(stalled[0]).isTrue();
  }
}
