package build.hearth.core.internal;

import java.io.IOException;

/** What an {@link IOException} from the file system says about the disk. */
public final class DiskErrors {
  private DiskErrors() {}

  /**
   * Whether {@code e} says the file system has no space left (ENOSPC) or the user's quota is spent
   * (EDQUOT). The JDK reports both only in the message, as the C library words them.
   */
  public static boolean isDiskFull(IOException e) {
    String message = e.getMessage();
    return message != null
        && (message.contains("No space left on device") || message.contains("Disk quota exceeded"));
  }
}
