package build.hearth.core.worker;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Uploads a command's stdout or stderr file to the CAS, streaming: one pass to hash it, a second to
 * upload the bytes hashed, skipped when the CAS already holds them. An empty file (most actions'
 * logs) is answered from its size alone: the empty blob's digest is known and every CAS holds it,
 * so it is neither opened, hashed nor looked up. Stateless.
 */
final class LogUploads {
  private static final int CHUNK = 64 * 1024;

  private LogUploads() {}

  /**
   * Uploads {@code file} to {@code cas} and returns its digest.
   *
   * @throws HearthException INTERNAL if the file cannot be read or changed while it was uploaded (a
   *     process of the action survived it); what {@code cas} throws
   */
  static Digest upload(Path file, ContentAddressableStorage cas, String what) {
    if (size(file, what) == 0) {
      return Digest.EMPTY;
    }
    Digest digest = hash(file, what);
    if (digest.isEmpty() || cas.contains(digest)) {
      return digest;
    }
    try (BlobUpload upload = cas.startUpload(digest);
        InputStream in = Files.newInputStream(file)) {
      if (upload.isComplete()) {
        return digest;
      }
      byte[] buffer = new byte[CHUNK];
      long remaining = digest.sizeBytes();
      while (remaining > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
        if (n < 0) {
          break;
        }
        upload.write(buffer, 0, n);
        remaining -= n;
      }
      try {
        upload.commit();
      } catch (HearthException e) {
        if (e.code() != StatusCode.INVALID_ARGUMENT) {
          throw e;
        }
        throw HearthException.internal(
            "the command's "
                + what
                + " changed while it was uploaded; a process of the action"
                + " outlived it",
            e);
      }
      return digest;
    } catch (IOException e) {
      throw HearthException.internal("cannot read the command's " + what + " from " + file, e);
    }
  }

  private static long size(Path file, String what) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw HearthException.internal("cannot read the command's " + what + " from " + file, e);
    }
  }

  private static Digest hash(Path file, String what) {
    MessageDigest sha = Digest.newMessageDigest();
    long size = 0;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[CHUNK];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        sha.update(buffer, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw HearthException.internal("cannot read the command's " + what + " from " + file, e);
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }
}
