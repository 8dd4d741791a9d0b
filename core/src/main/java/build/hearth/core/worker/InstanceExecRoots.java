package build.hearth.core.worker;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.spi.storage.BlobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One {@link ExecRoots} per REAPI instance a runner serves, made when the instance's first action
 * arrives. Each instance needs its own, because an {@link ExecRoots} fetches missing inputs from
 * one source CAS; they share the local cache, since blobs are the same whatever instance they came
 * from. Each gets its own directory under {@code instances/}, named after the instance so that the
 * next run finds, and deletes, what a crash left there.
 *
 * <p>Thread-safe. Making an instance's exec roots holds only that instance's lock.
 */
final class InstanceExecRoots implements AutoCloseable {
  private final Path instancesDirectory;
  private final BlobStore localCache;
  private final Function<String, ContentAddressableStorage> casForInstance;
  private final Executor fetchExecutor;
  private final boolean allowAbsoluteSymlinks;
  private final long maxDirectoryBytes;
  private final ConcurrentMap<String, Slot> slots = new ConcurrentHashMap<>();
  private volatile boolean closed;

  InstanceExecRoots(
      Path instancesDirectory,
      BlobStore localCache,
      Function<String, ContentAddressableStorage> casForInstance,
      Executor fetchExecutor,
      boolean allowAbsoluteSymlinks,
      long maxDirectoryBytes) {
    this.instancesDirectory = instancesDirectory;
    this.localCache = localCache;
    this.casForInstance = casForInstance;
    this.fetchExecutor = fetchExecutor;
    this.allowAbsoluteSymlinks = allowAbsoluteSymlinks;
    this.maxDirectoryBytes = maxDirectoryBytes;
  }

  /**
   * The exec roots of {@code instanceName}, made on first use.
   *
   * @throws HearthException UNAVAILABLE once closed; what the CAS function or {@link
   *     ExecRoots.Builder#build()} throws
   */
  ExecRoots forInstance(String instanceName, ContentAddressableStorage cas) {
    if (closed) {
      throw HearthException.unavailable("the action runner is closed", null);
    }
    return slots.computeIfAbsent(instanceName, Slot::new).get(cas);
  }

  /** The CAS of {@code instanceName}, from the function the runner was built with. */
  ContentAddressableStorage cas(String instanceName) {
    ContentAddressableStorage cas = casForInstance.apply(instanceName);
    if (cas == null) {
      throw HearthException.failedPrecondition(
          "this worker has no CAS for instance '%s'", instanceName);
    }
    return cas;
  }

  /** Closes every {@link ExecRoots} made so far. */
  @Override
  public void close() {
    closed = true;
    List<RuntimeException> failures = new ArrayList<>();
    for (Slot slot : slots.values()) {
      try {
        slot.close();
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /**
   * A directory name for {@code instanceName}: its safe characters, for people looking at the disk,
   * and a hash of the whole name, since instance names may hold {@code /} and differ only in
   * characters replaced here.
   */
  static String directoryName(String instanceName) {
    StringBuilder name = new StringBuilder("instance-");
    for (int i = 0; i < Math.min(instanceName.length(), 40); i++) {
      char c = instanceName.charAt(i);
      boolean safe =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_'
              || c == '.';
      name.append(safe ? c : '_');
    }
    String hash = Digest.of(instanceName.getBytes(StandardCharsets.UTF_8)).hash();
    return name.append('-').append(hash, 0, 12).toString();
  }

  private final class Slot {
    private final String instanceName;
    private ExecRoots roots;
    private boolean slotClosed;

    Slot(String instanceName) {
      this.instanceName = instanceName;
    }

    synchronized ExecRoots get(ContentAddressableStorage cas) {
      if (slotClosed) {
        throw HearthException.unavailable("the action runner is closed", null);
      }
      if (roots == null) {
        roots =
            ExecRoots.newBuilder()
                .workDirectory(instancesDirectory.resolve(directoryName(instanceName)))
                .localCache(localCache)
                .source(cas)
                .executor(fetchExecutor)
                .allowAbsoluteSymlinks(allowAbsoluteSymlinks)
                .maxDirectoryBytes(maxDirectoryBytes)
                .build();
      }
      return roots;
    }

    synchronized void close() {
      slotClosed = true;
      if (roots != null) {
        roots.close();
      }
    }
  }
}
