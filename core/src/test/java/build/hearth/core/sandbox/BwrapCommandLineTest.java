package build.hearth.core.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.SandboxConfig;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command lines the sandbox starts processes with. */
class BwrapCommandLineTest {
  @TempDir Path tempDir;

  private static final List<Path> SYSTEM = List.of(Path.of("/usr"), Path.of("/etc"));

  @Test
  void aRootWorkersActionGetsEveryNamespaceAndBecomesItsUser() {
    BwrapCommandLine line =
        new BwrapCommandLine(
            "/usr/bin/bwrap",
            EnumSet.allOf(Part.class),
            true,
            "/usr/bin/setpriv",
            65534,
            65534,
            SYSTEM);
    Path root = Path.of("/var/hearth/work/instances/x/exec-1");

    List<String> command =
        line.wrap(Confinement.of(root), root.resolve("pkg"), List.of("/bin/echo", "hi"));

    assertThat(String.join(" ", command))
        .isEqualTo(
            "/usr/bin/bwrap --unshare-ipc --unshare-pid --unshare-uts --unshare-net"
                + " --unshare-cgroup-try --die-with-parent --new-session --hostname hearth"
                + " --ro-bind /usr /usr --ro-bind /etc /etc --proc /proc --dev /dev --perms 1777"
                + " --tmpfs /tmp --perms 0755 --dir /var --perms 0755 --dir /var/hearth"
                + " --perms 0755 --dir /var/hearth/work --perms 0755 --dir /var/hearth/work/instances"
                + " --perms 0755 --dir /var/hearth/work/instances/x"
                + " --bind /var/hearth/work/instances/x/exec-1 /var/hearth/work/instances/x/exec-1"
                + " --chdir /var/hearth/work/instances/x/exec-1/pkg --"
                + " /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups"
                + " --bounding-set=-all --inh-caps=-all --no-new-privs -- /bin/echo hi");
  }

  @Test
  void aNonRootWorkerUsesAUserNamespaceAndANetworkedActionKeepsTheHosts() {
    BwrapCommandLine line =
        new BwrapCommandLine("/usr/bin/bwrap", EnumSet.allOf(Part.class), false, "", 0, 0, SYSTEM);
    Path root = Path.of("/tmp/w/exec-1");
    Confinement networked =
        new Confinement(
            root,
            List.of(Path.of("/usr/lib/jvm"), root.resolve("tool.jar"), Path.of("/tmp"), tempDir),
            true,
            OptionalLong.empty(),
            OptionalInt.empty());

    List<String> command = line.wrap(networked, root, List.of("/bin/true"));

    assertThat(command).contains("--unshare-user").doesNotContain("--unshare-net", "--reuid=0");
    // /tmp is the sandbox's own; ancestors under it are made; read-only extras inside the
    // writable directory, under a system path or over an ancestor are left out.
    assertThat(String.join(" ", command))
        .contains("--tmpfs /tmp --perms 0755 --dir /tmp/w --bind /tmp/w/exec-1 /tmp/w/exec-1")
        .contains("--ro-bind " + tempDir + " " + tempDir)
        .doesNotContain("/usr/lib/jvm", "tool.jar", "--ro-bind /tmp /tmp");
  }

  @Test
  void aSystemSymlinkIsRecreatedAndAMissingPathLeftOut() throws IOException {
    Path link = Files.createSymbolicLink(tempDir.resolve("lib"), Path.of("usr/lib"));
    BwrapCommandLine line =
        new BwrapCommandLine(
            "/usr/bin/bwrap",
            EnumSet.of(Part.MOUNT),
            true,
            "/usr/bin/setpriv",
            1,
            1,
            List.of(link, tempDir.resolve("missing")));

    List<String> command =
        line.wrap(Confinement.of(Path.of("/w")), Path.of("/w"), List.of("/bin/true"));

    assertThat(String.join(" ", command))
        .startsWith(
            "/usr/bin/bwrap --unshare-cgroup-try --die-with-parent --new-session --symlink"
                + " usr/lib "
                + link
                + " --proc")
        .doesNotContain("missing", "setpriv");
  }

  @Test
  void theCgroupPrefixWritesTheProcessesOwnPidThenBecomesTheCommand() throws Exception {
    Path first = Files.createFile(tempDir.resolve("memory.procs"));
    Path second = Files.createFile(tempDir.resolve("pids.procs"));
    List<String> command = new ArrayList<>(BwrapCommandLine.joinCgroups(List.of(first, second)));
    command.addAll(List.of("/bin/sh", "-c", "echo $$"));

    Process process = new ProcessBuilder(command).start();
    String printed =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(process.exitValue()).isZero();
    // The same pid: the shell exec'd the command, no process in between.
    assertThat(printed).isEqualTo(Long.toString(process.pid()));
    assertThat(Files.readString(first).trim()).isEqualTo(printed);
    assertThat(Files.readString(second).trim()).isEqualTo(printed);
  }

  @Test
  void theCgroupPrefixStopsWhenItCannotJoin() throws Exception {
    List<String> command =
        new ArrayList<>(
            BwrapCommandLine.joinCgroups(List.of(tempDir.resolve("no-such-dir/cgroup.procs"))));
    command.addAll(List.of("/bin/echo", "ran"));

    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

    assertThat(process.exitValue()).isEqualTo(125);
    assertThat(printed).doesNotContain("ran");
  }

  @Test
  void limitMessagesNameTheLimitAndTheProperty() {
    SandboxConfig config =
        new SandboxConfig(
            SandboxConfig.Mode.OPTIONAL,
            "nobody",
            "",
            false,
            OptionalLong.empty(),
            OptionalLong.of(1L << 30),
            OptionalInt.empty(),
            OptionalInt.of(512),
            SandboxConfig.DEFAULT_READ_ONLY_PATHS,
            Path.of("bwrap"));

    assertThat(
            ConfinedProcess.message(
                new CgroupVerdict(
                    OptionalLong.of(64L << 20), true, 64, 3, OptionalLong.of(64L << 20)),
                config,
                "v1"))
        .hasValue(
            "the command was killed by its memory limit of 64.0 MiB (cgroup v1 OOM kill); ask"
                + " for more with the platform property memoryLimit (this worker allows at most"
                + " 1.0 GiB); the command reached its process limit of 64 (the kernel refused 3"
                + " new processes or threads); ask for more with the platform property"
                + " processLimit (this worker allows at most 512)");
    assertThat(
            ConfinedProcess.message(
                new CgroupVerdict(OptionalLong.empty(), false, 0, 0, OptionalLong.empty()),
                config,
                "v2"))
        .isEmpty();
  }
}
