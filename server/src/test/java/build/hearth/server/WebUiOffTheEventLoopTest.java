package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.storage.MemoryActionCacheStoreProvider;
import build.hearth.core.storage.MemoryBlobStoreProvider;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreStats;
import build.hearth.spi.transport.TransportProviderRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The web UI renders off the port's I/O threads: while a page waits on a store read that does not
 * return, {@code /readyz} and {@code /metrics} answer on the same port, over connections spread
 * over every event loop, the blocked page's included.
 */
class WebUiOffTheEventLoopTest {
  private static final int READ_TIMEOUT_MILLIS = 20_000;

  private final CountDownLatch readEntered = new CountDownLatch(1);
  private final CountDownLatch releaseReads = new CountDownLatch(1);

  /** A memory store whose reads wait for {@link #releaseReads}. */
  private final class BlockingProvider extends BlobStoreProvider {
    @Override
    public String type() {
      return "blocking";
    }

    @Override
    public BlobStore create(StoreContext context) {
      BlobStore memory = new MemoryBlobStoreProvider().create(context);
      return new BlobStore() {
        @Override
        public boolean contains(Digest digest) {
          return memory.contains(digest);
        }

        @Override
        public Optional<InputStream> read(Digest digest, long offset) {
          readEntered.countDown();
          try {
            releaseReads.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return memory.read(digest, offset);
        }

        @Override
        public Upload startUpload(Digest digest) {
          return memory.startUpload(digest);
        }

        @Override
        public StoreStats stats() {
          return memory.stats();
        }

        @Override
        public void close() {
          memory.close();
        }
      };
    }
  }

  @Test
  void aPageWaitingOnAStoreStopsNeitherReadyzNorMetrics() throws Exception {
    HearthConfig config =
        HearthConfig.parse(
            """
            {
              "blobStores": { "cas": { "type": "blocking" } },
              "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } } ]
            }
            """,
            "test");
    ClassLoader loader = getClass().getClassLoader();
    try (HearthServer server =
        HearthServer.start(
            config,
            StoreProviderRegistry.of(
                List.of(new BlockingProvider()), List.of(new MemoryActionCacheStoreProvider())),
            TransportProviderRegistry.discover(loader))) {
      int port = server.port();
      Digest blob = Digest.of("a blob".getBytes(StandardCharsets.UTF_8));
      CompletableFuture<String> page =
          CompletableFuture.supplyAsync(
              () -> get(port, "/ui/blob/" + blob.hash() + "/" + blob.sizeBytes()));
      assertThat(readEntered.await(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();

      // Connections go round-robin over the event loops: some share the waiting page's.
      for (int i = 0; i < 16; i++) {
        assertThat(get(port, i % 2 == 0 ? "/readyz" : "/metrics")).startsWith("HTTP/1.1 200");
      }
      assertThat(page).isNotDone();
      releaseReads.countDown();

      assertThat(page.get(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).startsWith("HTTP/1.1 404");
    } finally {
      releaseReads.countDown();
    }
  }

  /** One request on a connection of its own; the whole answer, or a failure after 20 s. */
  private static String get(int port, String path) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("GET " + path + " failed", e);
    }
  }
}
