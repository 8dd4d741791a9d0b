package build.hearth.core.storage;

import build.hearth.spi.storage.StoreSettings;

/** The {@code maxSize} setting that every built-in store takes. */
final class SizeSetting {
  static final String MAX_SIZE = "maxSize";

  private SizeSetting() {}

  /** The store's capacity in bytes: {@code maxSize}, or {@code defaultBytes} if absent. */
  static long maxSize(StoreSettings settings, long defaultBytes) {
    long bytes = settings.bytes(MAX_SIZE).orElse(defaultBytes);
    if (bytes <= 0) {
      throw settings.error(MAX_SIZE, "must be more than 0 bytes, such as \"512MiB\"");
    }
    return bytes;
  }
}
