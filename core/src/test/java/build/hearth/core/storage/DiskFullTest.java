package build.hearth.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.BlobStore.Upload;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem stores on a real 4 MiB tmpfs that fills up: a write fails with the {@code
 * disk_full} limit, nothing partial is visible, reads keep working, and writes succeed again once
 * space returns. Needs root, to mount; CI runs as root.
 */
class DiskFullTest {
  @TempDir Path dir;
  private Path mount;

  @BeforeEach
  void mountASmallFileSystem() throws Exception {
    assertThat(System.getProperty("user.name"))
        .as("DiskFullTest mounts a tmpfs and must run as root")
        .isEqualTo("root");
    mount = Files.createDirectory(dir.resolve("small"));
    run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.toString());
  }

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      run("umount", mount.toString());
    }
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as("%s: %s", String.join(" ", command), output).isZero();
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Fills the file system but for about {@code leaveBytes}, with a file outside the store. */
  private Path ballast(long leaveBytes) throws IOException {
    long free = Files.getFileStore(mount).getUsableSpace();
    return Files.write(mount.resolve("ballast"), new byte[(int) (free - leaveBytes)]);
  }

  private static Consumer<HearthException> diskFull(String store) {
    return e -> {
      assertThat(e.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
      assertThat(e.limit()).contains("disk_full");
      assertThat(e.retryAfter()).isPresent();
      assertThat(e.getMessage()).contains(store, "No space left on device");
    };
  }

  @Test
  void blobStoreRefusesWhenTheDiskIsFullAndResumesAfter() throws Exception {
    Map<String, Object> settings = Map.of("path", mount.resolve("cas").toString());
    BlobStore store =
        new FilesystemBlobStoreProvider()
            .create(
                StoreContext.newBuilder("cas", StoreSettings.of("blobStores.cas", settings))
                    .build());
    try (store) {
      byte[] kept = bytes(100_000, 1);
      put(store, kept);
      Path ballast = ballast(200_000);
      byte[] big = bytes(1 << 20, 2);

      assertThatThrownBy(() -> put(store, big))
          .isInstanceOfSatisfying(HearthException.class, diskFull("blob store 'cas'"));

      assertThat(store.contains(Digest.of(big))).isFalse();
      assertThat(StoreDirectories.files(mount.resolve("cas/tmp"))).isEmpty();
      assertThat(readAll(store, kept)).isEqualTo(kept);
      StoreDirectories.assertMatches(mount.resolve("cas/blobs"), store.stats());

      Files.delete(ballast);
      put(store, big);
      assertThat(readAll(store, big)).isEqualTo(big);
    }
  }

  @Test
  void actionCacheStoreRefusesWhenTheDiskIsFullAndResumesAfter() throws Exception {
    Map<String, Object> settings = Map.of("path", mount.resolve("ac").toString());
    ActionCacheStore store =
        new FilesystemActionCacheStoreProvider()
            .create(
                StoreContext.newBuilder("ac", StoreSettings.of("actionCaches.ac", settings))
                    .build());
    try (store) {
      Digest keptKey = Digest.of(bytes(10, 3));
      byte[] kept = bytes(1000, 4);
      store.put(keptKey, kept);
      Path ballast = ballast(100_000);
      Digest bigKey = Digest.of(bytes(10, 5));
      byte[] big = bytes(1 << 20, 6);

      assertThatThrownBy(() -> store.put(bigKey, big))
          .isInstanceOfSatisfying(HearthException.class, diskFull("action-cache store 'ac'"));

      assertThat(store.get(bigKey)).isEmpty();
      assertThat(StoreDirectories.files(mount.resolve("ac/tmp"))).isEmpty();
      assertThat(store.get(keptKey)).contains(kept);

      Files.delete(ballast);
      store.put(bigKey, big);
      assertThat(store.get(bigKey)).contains(big);
    }
  }

  private static byte[] readAll(BlobStore store, byte[] content) throws IOException {
    try (java.io.InputStream in = store.read(Digest.of(content), 0).orElseThrow()) {
      return in.readAllBytes();
    }
  }

  private static void put(BlobStore store, byte[] content) {
    try (Upload upload = store.startUpload(Digest.of(content))) {
      upload.write(content, 0, content.length);
      upload.commit();
    }
  }
}
