package build.hearth.core.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cgroup v2 against a directory tree that mimics cgroupfs (this machine's v2 hierarchy has no
 * controllers, so only the probe's refusal can be checked for real). The fake kernel removes a
 * cgroup with its control files and kills a pid by taking it out of every {@code cgroup.procs}.
 */
class CgroupsV2Test {
  @TempDir Path root;

  private Path unified;
  private Path self;
  private final List<Long> killed = new ArrayList<>();
  private boolean swapAccounting = true;
  private boolean cgroupKill;

  private final CgroupFiles.Kernel fakeKernel =
      new CgroupFiles.Kernel() {
        @Override
        public void makeCgroup(Path dir) throws IOException {
          Files.createDirectory(dir);
          for (String file :
              List.of(
                  "cgroup.procs",
                  "cgroup.subtree_control",
                  "memory.max",
                  "memory.events",
                  "pids.max",
                  "pids.events")) {
            Files.writeString(dir.resolve(file), "");
          }
          Files.writeString(dir.resolve("cgroup.controllers"), "memory pids\n");
          if (swapAccounting) {
            Files.writeString(dir.resolve("memory.swap.max"), "max\n");
          }
          if (cgroupKill) {
            Files.writeString(dir.resolve("cgroup.kill"), "");
          }
        }

        @Override
        public void removeCgroup(Path dir) throws IOException {
          try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
              Files.delete(file); // control files; child cgroups are gone already
            }
          }
          Files.delete(dir);
        }

        @Override
        public void kill(long pid) {
          killed.add(pid);
          try (Stream<Path> all = Files.walk(unified)) {
            for (Path procs : all.filter(p -> p.endsWith("cgroup.procs")).toList()) {
              String left =
                  Files.readAllLines(procs).stream()
                      .filter(l -> !l.equals(Long.toString(pid)))
                      .collect(Collectors.joining("\n"));
              Files.writeString(procs, left);
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  @BeforeEach
  void fakeCgroupfs() throws IOException {
    unified = root.resolve("unified");
    Path own = Files.createDirectories(unified.resolve("worker.slice/hearth.service"));
    Files.writeString(unified.resolve("cgroup.controllers"), "cpu memory pids\n");
    Files.writeString(own.resolve("cgroup.controllers"), "memory pids\n");
    Files.writeString(own.resolve("cgroup.subtree_control"), "memory pids\n");
    self =
        Files.writeString(
            root.resolve("self-cgroup"), "4:memory:/\n0::/worker.slice/hearth.service\n");
  }

  private Cgroups probe() {
    return Cgroups.probe(root, self, "w1", fakeKernel);
  }

  @Test
  void delegatedMemoryAndPidsMakeV2WithAParentThatEnablesThem() throws IOException {
    Cgroups cgroups = probe();

    assertThat(cgroups.version()).isEqualTo("v2");
    assertThat(cgroups.memoryRefusal()).isEmpty();
    assertThat(cgroups.pidsRefusal()).isEmpty();
    assertThat(cgroups.v2Refusal()).isEmpty();
    assertThat(cgroups.parents()).hasSize(1);
    Path parent = cgroups.parents().get(0);
    assertThat(parent.getParent()).isEqualTo(unified.resolve("worker.slice/hearth.service"));
    assertThat(Files.readString(parent.resolve("cgroup.subtree_control")))
        .isEqualTo("+memory +pids");

    cgroups.close();
    assertThat(parent).doesNotExist();
  }

  @Test
  void actionCgroupGetsItsLimitsAndOneProcsFile() throws IOException {
    Cgroups cgroups = probe();
    Path parent = cgroups.parents().get(0);

    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.of(64L << 20), OptionalInt.of(32));

    Path dir = parent.resolve("a1");
    assertThat(cgroup.procsFiles()).containsExactly(dir.resolve("cgroup.procs"));
    assertThat(Files.readString(dir.resolve("memory.max"))).isEqualTo("67108864");
    assertThat(Files.readString(dir.resolve("pids.max"))).isEqualTo("32");
    assertThat(Files.readString(dir.resolve("memory.swap.max"))).isEqualTo("0");
    cgroup.close();
    assertThat(dir).doesNotExist();
    cgroups.close();
  }

  @Test
  void withoutSwapAccountingTheMemoryLimitAlone() throws IOException {
    swapAccounting = false;
    Cgroups cgroups = probe();

    try (ActionCgroup cgroup = cgroups.create("a1", OptionalLong.of(4096), OptionalInt.empty())) {
      Path dir = cgroup.procsFiles().get(0).getParent();
      assertThat(Files.readString(dir.resolve("memory.max"))).isEqualTo("4096");
      assertThat(Files.readString(dir.resolve("pids.max"))).isEmpty();
      assertThat(dir.resolve("memory.swap.max")).doesNotExist();
    }
    cgroups.close();
  }

  @Test
  void aLimitTheKernelDoesNotOfferIsAnErrorNamingTheFileAndLeavesNothing() throws IOException {
    Cgroups cgroups = probe();
    Path parent = cgroups.parents().get(0);
    CgroupFiles.Kernel noPids =
        new CgroupFiles.Kernel() {
          @Override
          public void makeCgroup(Path dir) throws IOException {
            fakeKernel.makeCgroup(dir);
            Files.delete(dir.resolve("pids.max"));
          }

          @Override
          public void removeCgroup(Path dir) throws IOException {
            fakeKernel.removeCgroup(dir);
          }

          @Override
          public void kill(long pid) {}
        };
    Cgroups broken = new Cgroups("v2", null, null, null, parent, parent, new CgroupFiles(noPids));

    assertThatThrownBy(() -> broken.create("a1", OptionalLong.empty(), OptionalInt.of(3)))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("cannot write '3' to " + parent.resolve("a1/pids.max"));
    assertThat(parent.resolve("a1")).doesNotExist();
    cgroups.close();
  }

  @Test
  void verdictReadsMemoryEventsPeakAndPidsEvents() throws IOException {
    Cgroups cgroups = probe();
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.of(1L << 20), OptionalInt.of(4));
    Path dir = cgroup.procsFiles().get(0).getParent();
    Files.writeString(
        dir.resolve("memory.events"),
        "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    Files.writeString(dir.resolve("memory.peak"), "1048576\n");
    Files.writeString(dir.resolve("pids.events"), "max 3\n");

    CgroupVerdict verdict = cgroup.verdict();

    assertThat(verdict)
        .isEqualTo(
            new CgroupVerdict(OptionalLong.of(1L << 20), true, 4, 3, OptionalLong.of(1L << 20)));
    cgroups.close();
  }

  @Test
  void verdictWithoutEventsIsClearAndPeakAbsentWhereTheKernelLacksIt() throws IOException {
    Cgroups cgroups = probe();
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.empty(), OptionalInt.empty());
    Path dir = cgroup.procsFiles().get(0).getParent();
    Files.writeString(dir.resolve("memory.events"), "low 0\noom_kill 0\n");
    Files.writeString(dir.resolve("pids.events"), "max 0\n");

    assertThat(cgroup.verdict())
        .isEqualTo(new CgroupVerdict(OptionalLong.empty(), false, 0, 0, OptionalLong.empty()));
    cgroups.close();
  }

  @Test
  void closeKillsEveryProcessLeftThenRemovesTheCgroup() throws IOException {
    Cgroups cgroups = probe();
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.empty(), OptionalInt.empty());
    Path dir = cgroup.procsFiles().get(0).getParent();
    Files.writeString(dir.resolve("cgroup.procs"), "4101\n4102\n");

    cgroup.close();

    assertThat(killed).containsExactlyInAnyOrder(4101L, 4102L);
    assertThat(dir).doesNotExist();
    cgroups.close();
  }

  @Test
  void closeUsesCgroupKillWhereTheKernelHasIt() throws IOException {
    cgroupKill = true;
    Cgroups cgroups = probe();
    ActionCgroup cgroup = cgroups.create("a1", OptionalLong.empty(), OptionalInt.empty());
    Path dir = cgroup.procsFiles().get(0).getParent();
    List<String> written = new ArrayList<>();
    CgroupFiles files =
        new CgroupFiles(
            new CgroupFiles.Kernel() {
              @Override
              public void makeCgroup(Path d) throws IOException {
                fakeKernel.makeCgroup(d);
              }

              @Override
              public void removeCgroup(Path d) throws IOException {
                written.add(Files.readString(d.resolve("cgroup.kill")));
                fakeKernel.removeCgroup(d);
              }

              @Override
              public void kill(long pid) {
                fakeKernel.kill(pid);
              }
            });

    files.killAndRemove(dir);

    assertThat(written).containsExactly("1");
    assertThat(killed).isEmpty();
    cgroups.close();
    cgroup.close(); // idempotent once gone
  }

  @Test
  void undelegatedControllersFallBackAndSayWhy() throws IOException {
    Path own = unified.resolve("worker.slice/hearth.service");
    Files.writeString(own.resolve("cgroup.subtree_control"), "memory\n");

    Cgroups cgroups = probe();

    assertThat(cgroups.version()).isEqualTo("none");
    assertThat(cgroups.v2Refusal())
        .hasValue(
            "the cgroup v2 hierarchy at "
                + unified
                + " does not delegate pids to this process's cgroup /worker.slice/hearth.service"
                + " (its cgroup.subtree_control holds 'memory', its cgroup.controllers 'memory"
                + " pids')");
    assertThat(cgroups.memoryRefusal())
        .hasValueSatisfying(
            r ->
                assertThat(r)
                    .contains("does not delegate pids")
                    .contains("cgroup v1: the cgroup v1 memory hierarchy is not mounted at"));
    assertThat(cgroups.pidsRefusal())
        .hasValueSatisfying(r -> assertThat(r).contains("no cgroup v1 pids hierarchy is listed"));
    ActionCgroup none = cgroups.create("a1", OptionalLong.of(1 << 20), OptionalInt.of(3));
    assertThat(none.procsFiles()).isEmpty();
    assertThat(none.verdict().memoryLimitBytes()).isEmpty();
    none.close();
    cgroups.close();
  }

  @Test
  void noCgroupFileSystemAtAll() throws IOException {
    Path empty = Files.createDirectory(root.resolve("nothing"));

    Cgroups cgroups = Cgroups.probe(empty, self, "w1", fakeKernel);

    assertThat(cgroups.version()).isEqualTo("none");
    assertThat(cgroups.v2Refusal())
        .hasValue("no cgroup v2 hierarchy is mounted at " + empty + " or " + empty + "/unified");
  }

  @Test
  void thisMachinesV2HierarchyIsReportedUnusable() {
    Path real = Path.of("/sys/fs/cgroup/unified/cgroup.subtree_control");
    org.junit.jupiter.api.Assertions.assertTrue(
        Files.exists(real), "needs the CI machine's cgroup v2 mount at /sys/fs/cgroup/unified");

    Cgroups cgroups = Cgroups.probe(Path.of("/sys/fs/cgroup"), Path.of("/proc/self/cgroup"), "v2");
    try {
      assertThat(cgroups.version()).isNotEqualTo("v2");
      assertThat(cgroups.v2Refusal())
          .hasValueSatisfying(
              r ->
                  assertThat(r)
                      .startsWith(
                          "the cgroup v2 hierarchy at /sys/fs/cgroup/unified does not delegate"
                              + " memory and pids"));
    } finally {
      cgroups.close();
    }
  }
}
