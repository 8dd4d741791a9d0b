package build.hearth.core.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cgroup v1 for real: this machine kind mounts writable {@code memory} and {@code pids} v1
 * hierarchies and a v2 one without controllers. Real processes join an action's cgroup exactly as
 * the worker's launch prefix makes them, then exceed its limits.
 */
class CgroupsV1Test {
  private static final Path MOUNT_ROOT = Path.of("/sys/fs/cgroup");
  private static final Path SELF = Path.of("/proc/self/cgroup");
  private static final String JOIN =
      "for f; do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift;"
          + " exec \"$@\"";

  private final List<Cgroups> opened = new ArrayList<>();

  @BeforeEach
  void requireV1() {
    assertTrue(
        Files.isDirectory(MOUNT_ROOT.resolve("memory/process_api"))
            && Files.isWritable(MOUNT_ROOT.resolve("pids")),
        "needs the CI machine's writable cgroup v1 memory and pids hierarchies");
  }

  @AfterEach
  void closeAll() {
    opened.forEach(Cgroups::close);
  }

  private Cgroups probe(String worker) {
    Cgroups cgroups = Cgroups.probe(MOUNT_ROOT, SELF, worker);
    opened.add(cgroups);
    return cgroups;
  }

  @Test
  void probeOnThisMachineUsesV1AndSaysWhyNotV2() {
    Cgroups cgroups = probe("probe-test");

    assertThat(cgroups.version()).isEqualTo("v1");
    assertThat(cgroups.memoryRefusal()).isEmpty();
    assertThat(cgroups.pidsRefusal()).isEmpty();
    assertThat(cgroups.v2Refusal())
        .hasValueSatisfying(
            r -> assertThat(r).contains("/sys/fs/cgroup/unified").contains("memory and pids"));
    assertThat(cgroups.describe()).startsWith("v1 (memory; pids; v2 not used: ");
    assertThat(cgroups.parents()).hasSize(2).allSatisfy(p -> assertThat(p).isDirectory());
    assertThat(cgroups.parents().get(0).getFileName().toString())
        .matches("hearth-probe-test-" + ProcessHandle.current().pid() + "-[0-9a-f]{8}");

    List<Path> parents = cgroups.parents();
    cgroups.close();
    assertThat(parents).allSatisfy(p -> assertThat(p).doesNotExist());
  }

  @Test
  void twoWorkersOfOneNameInOneJvmGetTheirOwnCgroups() throws Exception {
    Cgroups first = probe("same");
    Cgroups second = probe("same");
    assertThat(first.parents()).doesNotContainAnyElementsOf(second.parents());

    try (ActionCgroup a = first.create("action-1", OptionalLong.empty(), OptionalInt.of(4));
        ActionCgroup b = second.create("action-1", OptionalLong.empty(), OptionalInt.of(4))) {
      assertThat(a.procsFiles()).doesNotContainAnyElementsOf(b.procsFiles());
      first.close();
      assertThat(second.parents()).allSatisfy(p -> assertThat(p).isDirectory());
      assertThat(b.procsFiles()).allSatisfy(p -> assertThat(p).exists());
    }
  }

  @Test
  void staleParentOfACrashedRunIsRemovedAtProbe() throws IOException {
    Path own = ownMemoryCgroup();
    Path stale = own.resolve("hearth-stale-test-99999999-0000abcd");
    Path live = own.resolve("hearth-stale-test-" + ProcessHandle.current().pid() + "-0000abcd");
    Files.createDirectory(stale);
    Files.createDirectory(live);
    try {
      probe("stale-test");

      assertThat(stale).doesNotExist();
      assertThat(live).isDirectory(); // another Hearth of this JVM may own it
    } finally {
      Files.deleteIfExists(stale);
      Files.deleteIfExists(live);
    }
  }

  @Test
  void memoryLimitKillsTheActionAndTheVerdictSaysSo() throws Exception {
    Cgroups cgroups = probe("oom-test");
    long limit = 32L << 20;
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.of(limit), OptionalInt.empty());
    Path memoryDir = cgroup.procsFiles().get(0).getParent();
    assertThat(Files.readString(memoryDir.resolve("memory.limit_in_bytes")).trim())
        .isEqualTo(Long.toString(limit));
    Path memsw = memoryDir.resolve("memory.memsw.limit_in_bytes");
    if (Files.exists(memsw)) {
      assertThat(Files.readString(memsw).trim()).isEqualTo(Long.toString(limit));
    }

    int exit = run(cgroup, "/usr/bin/python3", "-c", "b = b'x' * (256 << 20); print(len(b))");

    assertThat(exit).isEqualTo(137);
    CgroupVerdict verdict = cgroup.verdict();
    assertThat(verdict.oomKilled()).isTrue();
    assertThat(verdict.memoryLimitBytes()).hasValue(limit);
    assertThat(verdict.forksRefused()).isZero();
    assertThat(verdict.peakMemoryBytes()).isPresent();
    cgroup.close();
    assertThat(cgroup.procsFiles()).allSatisfy(p -> assertThat(p.getParent()).doesNotExist());
  }

  @Test
  void actionWithinItsLimitsGetsAClearVerdict() throws Exception {
    Cgroups cgroups = probe("ok-test");
    try (ActionCgroup cgroup =
        cgroups.create("a1", OptionalLong.of(64L << 20), OptionalInt.of(8))) {
      assertThat(run(cgroup, "/bin/sh", "-c", "echo hello | cat")).isZero();

      CgroupVerdict verdict = cgroup.verdict();
      assertThat(verdict.oomKilled()).isFalse();
      assertThat(verdict.forksRefused()).isZero();
      assertThat(verdict.processLimit()).isEqualTo(8);
    }
  }

  @Test
  void processLimitRefusesForksAndCloseKillsWhatIsLeft() throws Exception {
    Cgroups cgroups = probe("pids-test");
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.empty(), OptionalInt.of(6));
    Path pidsDir =
        cgroup.procsFiles().stream()
            .map(Path::getParent)
            .filter(d -> Files.exists(d.resolve("pids.max")))
            .findFirst()
            .orElseThrow();
    assertThat(Files.readString(pidsDir.resolve("pids.max")).trim()).isEqualTo("6");

    // setsid: leftovers that left the action's session and process group still go.
    run(cgroup, "/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do setsid sleep 600 & done; true");

    CgroupVerdict verdict = cgroup.verdict();
    assertThat(verdict.forksRefused()).isPositive();
    assertThat(verdict.processLimit()).isEqualTo(6);
    List<Long> leftovers = CgroupFiles.processes(pidsDir);
    assertThat(leftovers).isNotEmpty();

    cgroup.close();

    assertThat(pidsDir).doesNotExist();
    for (long pid : leftovers) {
      assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive))
          .as("leftover %d", pid)
          .satisfiesAnyOf(p -> assertThat(p).isEmpty(), p -> assertThat(isZombie(pid)).isTrue());
    }
  }

  @Test
  void closingTheWorkersCgroupsKillsRunningActions() throws Exception {
    Cgroups cgroups = probe("close-test");
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.empty(), OptionalInt.empty());
    run(cgroup, "/bin/sh", "-c", "setsid sleep 600 & true");
    Path dir = cgroup.procsFiles().get(0).getParent();
    assertThat(CgroupFiles.processes(dir)).hasSize(1);

    cgroups.close();

    assertThat(cgroups.parents()).allSatisfy(p -> assertThat(p).doesNotExist());
    cgroup.close(); // idempotent after its parent went
  }

  private static boolean isZombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return true; // gone
    }
  }

  private static Path ownMemoryCgroup() throws IOException {
    for (String line : Files.readAllLines(SELF)) {
      String[] f = line.split(":", 3);
      if (f[1].equals("memory")) {
        return MOUNT_ROOT.resolve("memory").resolve(f[2].substring(1));
      }
    }
    throw new IllegalStateException("no memory cgroup in " + SELF);
  }

  /** Runs {@code command} in {@code cgroup}, joined through the worker's shell prefix. */
  private static int run(ActionCgroup cgroup, String... command) throws Exception {
    List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", JOIN, "hearth-cgroup"));
    cgroup.procsFiles().forEach(p -> argv.add(p.toString()));
    argv.add("--");
    argv.addAll(List.of(command));
    Process process =
        new ProcessBuilder(argv)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return process.exitValue();
  }
}
