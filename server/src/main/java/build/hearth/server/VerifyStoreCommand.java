package build.hearth.server;

import build.hearth.api.HearthException;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.StoreConfig;
import build.hearth.core.storage.StoreVerifier;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hearth admin verify-store [--config FILE] [--store NAME] [--path DIR]}: verifies
 * filesystem stores at rest (see {@link StoreVerifier}): those of {@code --path}, or else the
 * {@code filesystem} blob and action-cache stores of the configuration and the local tiers of its
 * {@code tiered} stores (the embedded default without {@code --config}), or only the one named by
 * {@code --store}. Prints, per directory, how many files it checked, kept and removed. Exit code 0
 * when everything verified, 1 when something was removed, 2 on an error (a directory that does not
 * exist or cannot be read).
 */
@Command(
    name = "verify-store",
    mixinStandardHelpOptions = true,
    description =
        "Re-hashes every blob and checks every action-cache entry of filesystem stores, deleting"
            + " what does not verify. Safe while a server uses the store.")
final class VerifyStoreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--path",
      paramLabel = "DIR",
      description =
          "A filesystem store's directory (its \"path\" setting); repeat for several stores."
              + " Without it, the stores of the configuration are verified.")
  List<Path> paths;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "The server's JSON configuration, whose filesystem stores are verified; default: the"
              + " embedded default configuration.")
  Path config;

  @Option(
      names = "--store",
      paramLabel = "NAME",
      description = "Only the configured store of this name (blob or action-cache store).")
  String store;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Collection<Path> roots;
    try {
      roots = paths != null ? paths : configuredRoots();
    } catch (HearthException e) {
      err.println("hearth admin verify-store: " + e.getMessage());
      return 2;
    }
    if (roots.isEmpty()) {
      err.println(
          "hearth admin verify-store: no filesystem store "
              + (store == null ? "in the configuration" : "named '" + store + "'")
              + "; name one with --store or give its directory with --path");
      return 2;
    }
    boolean removed = false;
    out.printf(
        "%-40s %10s %10s %10s %14s%n", "STORE", "CHECKED", "GOOD", "REMOVED", "REMOVED_BYTES");
    for (Path path : roots) {
      if (!Files.isDirectory(path)) {
        err.println("hearth admin verify-store: " + path + " is not a directory; check --path");
        return 2;
      }
      StoreVerifier.Report report;
      try {
        report = StoreVerifier.verify(path);
      } catch (UncheckedIOException e) {
        err.println("hearth admin verify-store: " + e.getMessage());
        return 2;
      }
      out.printf(
          "%-40s %10d %10d %10d %14d%n",
          path, report.checked(), report.good(), report.removed(), report.removedBytes());
      removed |= report.removed() > 0;
    }
    out.flush();
    return removed ? 1 : 0;
  }

  /** The directories of the configuration's filesystem stores, each once (stores may share one). */
  private Collection<Path> configuredRoots() {
    HearthConfig parsed =
        config == null ? HearthConfig.embeddedDefault() : HearthConfig.load(config);
    Set<Path> roots = new LinkedHashSet<>();
    for (Map<String, StoreConfig> stores :
        List.of(parsed.blobStores(), parsed.actionCacheStores())) {
      for (StoreConfig candidate : stores.values()) {
        if (store == null || store.equals(candidate.name())) {
          StoreVerifier.directoryOf(candidate.type(), candidate.settings()).ifPresent(roots::add);
        }
      }
    }
    return roots;
  }
}
