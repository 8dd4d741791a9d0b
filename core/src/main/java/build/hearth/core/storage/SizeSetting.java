package build.hearth.core.storage;

import build.hearth.spi.storage.StoreSettings;

/**
 * The size settings of the built-in stores: {@code maxSize}, and what each entry is charged against
 * it besides its content ({@code entryOverhead} for the memory stores, {@code blockSize} for the
 * filesystem ones).
 */
final class SizeSetting {
  static final String MAX_SIZE = "maxSize";
  static final String ENTRY_OVERHEAD = "entryOverhead";
  static final String BLOCK_SIZE = "blockSize";

  private SizeSetting() {}

  /** The store's capacity in bytes: {@code maxSize}, or {@code defaultBytes} if absent. */
  static long maxSize(StoreSettings settings, long defaultBytes) {
    long bytes = settings.bytes(MAX_SIZE).orElse(defaultBytes);
    if (bytes <= 0) {
      throw settings.error(MAX_SIZE, "must be more than 0 bytes, such as \"512MiB\"");
    }
    return bytes;
  }

  /**
   * The bytes a memory store charges each entry besides its content: {@code entryOverhead}, or
   * {@code defaultBytes}; 0 counts content only.
   */
  static long entryOverhead(StoreSettings settings, long defaultBytes) {
    long bytes = settings.bytes(ENTRY_OVERHEAD).orElse(defaultBytes);
    if (bytes < 0) {
      throw settings.error(ENTRY_OVERHEAD, "must not be negative, such as \"256B\"");
    }
    return bytes;
  }

  /**
   * The unit a filesystem store charges each file in: {@code blockSize}, or {@code defaultBytes}; 1
   * counts content only.
   */
  static long blockSize(StoreSettings settings, long defaultBytes) {
    long bytes = settings.bytes(BLOCK_SIZE).orElse(defaultBytes);
    if (bytes <= 0) {
      throw settings.error(BLOCK_SIZE, "must be at least 1 byte, such as \"4KiB\"");
    }
    return bytes;
  }
}
