package build.hearth.server;

import build.hearth.core.storage.StoreVerifier;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hearth admin verify-store --path DIR...}: verifies filesystem stores at rest (see {@link
 * StoreVerifier}) and prints, per directory, how many files it checked, kept and removed. Exit code
 * 0 when everything verified, 1 when something was removed, 2 on an error (a directory that does
 * not exist or cannot be read).
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
      required = true,
      description =
          "A filesystem store's directory (its \"path\" setting); repeat for several stores.")
  List<Path> paths;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean removed = false;
    out.printf(
        "%-40s %10s %10s %10s %14s%n", "STORE", "CHECKED", "GOOD", "REMOVED", "REMOVED_BYTES");
    for (Path path : paths) {
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
}
