package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hearth admin verify-store} through the real command line. */
class VerifyStoreCommandTest {
  @TempDir Path dir;

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void removesACorruptBlobAndReportsIt() throws Exception {
    byte[] good = "good".getBytes(StandardCharsets.UTF_8);
    String goodHash = Digest.of(good).hash();
    String badHash = Digest.of("bad".getBytes(StandardCharsets.UTF_8)).hash();
    Path goodFile = Files.createDirectories(dir.resolve("blobs/" + goodHash.substring(0, 2)));
    Files.write(goodFile.resolve(goodHash), good);
    Path badDir = Files.createDirectories(dir.resolve("blobs/" + badHash.substring(0, 2)));
    Path bad = Files.write(badDir.resolve(badHash), "b4d".getBytes(StandardCharsets.UTF_8));

    Run first = run("admin", "verify-store", "--path", dir.toString());
    Run second = run("admin", "verify-store", "--path", dir.toString());

    assertThat(first.exitCode()).as(first.err()).isEqualTo(1);
    assertThat(first.out()).containsPattern(" +2 +1 +1 +3\\n");
    assertThat(bad).doesNotExist();
    assertThat(second.exitCode()).as(second.err()).isZero();
    assertThat(second.out()).containsPattern(" +1 +1 +0 +0\\n");
  }

  @Test
  void verifiesTheFilesystemStoresOfAConfiguration() throws Exception {
    Path store = Files.createDirectories(dir.resolve("store"));
    String badHash = Digest.of("bad".getBytes(StandardCharsets.UTF_8)).hash();
    Path badDir = Files.createDirectories(store.resolve("ac/" + badHash.substring(0, 2)));
    Path bad = Files.write(badDir.resolve(badHash + "-3"), new byte[0]);
    Path config =
        Files.writeString(
            dir.resolve("hearth.json"),
            """
            {
              "blobStores": {"cas": {"type": "filesystem", "path": "%s"}},
              "actionCacheStores": {"ac": {"type": "filesystem", "path": "%s"}},
              "servers": [
                {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
              ]
            }
            """
                .formatted(store, store));

    Run run = run("admin", "verify-store", "--config", config.toString(), "--store", "ac");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains(store.toString()).containsPattern(" +1 +0 +1 +0\\n");
    assertThat(bad).doesNotExist();
  }

  @Test
  void verifiesTheLocalTierOfATieredStore() throws Exception {
    Path local = Files.createDirectories(dir.resolve("local"));
    String badHash = Digest.of("bad".getBytes(StandardCharsets.UTF_8)).hash();
    Path badDir = Files.createDirectories(local.resolve("blobs/" + badHash.substring(0, 2)));
    Path bad = Files.write(badDir.resolve(badHash), "b4d".getBytes(StandardCharsets.UTF_8));
    Path config =
        Files.writeString(
            dir.resolve("hearth.json"),
            """
            {
              "blobStores": {"cas": {"type": "tiered",
                "local": {"type": "filesystem", "path": "%s"},
                "shared": {"type": "memory"}}},
              "actionCacheStores": {"ac": {"type": "memory"}},
              "servers": [
                {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
              ]
            }
            """
                .formatted(local));

    Run run = run("admin", "verify-store", "--config", config.toString(), "--store", "cas");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains(local.toString()).containsPattern(" +1 +0 +1 +3\\n");
    assertThat(bad).doesNotExist();
  }

  @Test
  void anUnknownStoreIsAnError() throws Exception {
    Run run = run("admin", "verify-store", "--store", "nope");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("no filesystem store named 'nope'");
  }

  @Test
  void aMissingDirectoryIsAnError() {
    Run run = run("admin", "verify-store", "--path", dir.resolve("nope").toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("is not a directory");
  }
}
