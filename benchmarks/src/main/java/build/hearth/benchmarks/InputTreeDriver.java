package build.hearth.benchmarks;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.core.Hearth;
import build.hearth.core.Storage;
import build.hearth.core.execroot.ExecRoot;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execroot.InputFiles;
import build.hearth.core.execroot.PrepareTimes;
import build.hearth.core.execroot.SyncedInputs;
import build.hearth.core.internal.DirectoryTrees;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreProviderRegistry;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issue 18's third target: what a worker spends on an action with a large input tree whose blobs
 * are all in its local cache. It builds the tree ({@link LargeInputTree}: 10,000 files in 500
 * directories by default) in a real source CAS and a real {@code filesystem} local cache, then
 * measures, through {@link ExecRoots} as a worker uses it:
 *
 * <ul>
 *   <li>{@link ExecRoots#prepare} of the tree into a fresh exec root, split into its steps by
 *       {@link ExecRoot#prepareTimes()}: validation, the local cache's FindMissing of the tree's
 *       files, and the materialization (directories and hard links);
 *   <li>the reference, in the same rounds: {@code cp -al} of a materialized copy of the same tree
 *       (the kernel's own cost for the same links and directories, plus one process start, which
 *       the {@code /bin/true} row measures alone);
 *   <li>a persistent worker's next request: {@link ExecRoots#inputFiles} and {@link
 *       ExecRoots#sync(InputFiles, Path, Set)} of a directory that holds the tree, alternating with
 *       the same tree with a share of its files changed (1% by default).
 * </ul>
 *
 * <p>The variants take turns in every round, so a change in the machine's speed touches all of
 * them. Deleting exec roots and copies is not timed. Prints a Markdown report on standard output,
 * progress on standard error.
 *
 * <pre>
 * java -jar benchmarks/target/hearth-benchmarks.jar input-tree [--files 10000] [--directories 500]
 * </pre>
 */
@Command(
    name = "input-tree",
    mixinStandardHelpOptions = true,
    description =
        "Measures exec-root set-up, validation and directory sync of a large cached input tree"
            + " against cp -al of the same tree; prints a Markdown report.")
final class InputTreeDriver implements Callable<Integer> {
  static final double SETUP_TO_CP_TARGET = 2.0;
  static final double VALIDATION_TARGET_MILLIS = 20;
  static final double SYNC_TARGET_MILLIS = 5;

  @Option(
      names = "--files",
      paramLabel = "N",
      description = "Input files (default: ${DEFAULT-VALUE}).")
  int files = 10_000;

  @Option(
      names = "--directories",
      paramLabel = "N",
      description = "Directories below the root (default: ${DEFAULT-VALUE}).")
  int directories = 500;

  @Option(
      names = "--file-bytes",
      paramLabel = "N",
      description = "Bytes per input file (default: ${DEFAULT-VALUE}).")
  int fileBytes = 256;

  @Option(
      names = "--changed-percent",
      paramLabel = "P",
      description = "Share of files changed between sync requests (default: ${DEFAULT-VALUE}).")
  double changedPercent = 1.0;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description = "Unmeasured rounds first (default: ${DEFAULT-VALUE}).")
  int warmup = 20;

  @Option(
      names = "--iterations",
      paramLabel = "N",
      description = "Measured rounds (default: ${DEFAULT-VALUE}).")
  int iterations = 20;

  @Option(
      names = "--tmp",
      paramLabel = "DIR",
      description = "Where the cache and work directories are made (default: java.io.tmpdir).")
  Path tmp = Path.of(System.getProperty("java.io.tmpdir"));

  /** The durations of one phase over the measured rounds, and the CPU spent inside them. */
  private static final class Phase {
    final String name;
    final long[] nanos;
    final CpuTimes cpu = new CpuTimes();
    int count;

    Phase(String name, int iterations) {
      this.name = name;
      this.nanos = new long[iterations];
    }

    void add(long duration) {
      nanos[count++] = duration;
    }

    Measurement measurement(String work, int warmups) {
      return new Measurement(name, work, "/s", 1, warmups, nanos);
    }
  }

  @Override
  public Integer call() throws Exception {
    String loadBefore = Report.loadAverage();
    ExecutorService fetchPool = Executors.newFixedThreadPool(4);
    try (ScratchDirectory scratch = ScratchDirectory.create(tmp, "input-tree-");
        Hearth server = Hearth.newBuilder().build()) {
      BlobStore cacheStore = filesystemStore(scratch.path().resolve("cache"));
      try (cacheStore;
          ExecRoots roots =
              ExecRoots.newBuilder()
                  .workDirectory(scratch.path().resolve("work"))
                  .localCache(cacheStore)
                  .source(server.cas())
                  .executor(fetchPool)
                  .build()) {
        ContentAddressableStorage cache = Storage.cas(cacheStore);
        System.err.printf(
            Locale.ROOT, "building %d files in %d directories...%n", files, directories);
        LargeInputTree tree =
            LargeInputTree.build(
                files, directories, fileBytes, changedPercent, List.of(server.cas(), cache));
        // The same worker's validation, as it is the first time a tree is seen: nothing kept.
        try (ExecRoots firstSight =
            ExecRoots.newBuilder()
                .workDirectory(scratch.path().resolve("work-uncached"))
                .localCache(cacheStore)
                .source(server.cas())
                .executor(fetchPool)
                .maxCheckedDirectoryBytes(0)
                .build()) {
          return measure(roots, firstSight, tree, scratch.path(), loadBefore);
        }
      }
    } finally {
      fetchPool.shutdownNow();
    }
  }

  private int measure(
      ExecRoots roots, ExecRoots firstSight, LargeInputTree tree, Path scratch, String loadBefore)
      throws IOException, InterruptedException {
    Phase prepare = new Phase("ExecRoots.prepare (validation + FindMissing + links)", iterations);
    Phase validation = new Phase("  of which validation", iterations);
    Phase findMissing = new Phase("  of which FindMissing (local cache)", iterations);
    Phase materialize = new Phase("  of which materialization", iterations);
    Phase checked = new Phase("validation + FindMissing", iterations);
    Phase close = new Phase("ExecRoot.close (check links, delete), not a target", iterations);
    Phase cp = new Phase("`cp -al` of the same tree (reference)", iterations);
    Phase spawn = new Phase("`/bin/true` start (the cp row's process start)", iterations);
    Phase syncValidate = new Phase("sync: inputFiles (validation + listing)", iterations);
    Phase sync = new Phase("sync: ExecRoots.sync", iterations);
    Phase syncTotal = new Phase("sync, 1% changed: inputFiles + sync", iterations);
    Phase uncached =
        new Phase("inputFiles with no checked directories kept (a tree seen first)", iterations);

    // The cp source: one materialized tree, with the very inodes prepare links to.
    try (ExecRoot source = roots.prepare(tree.root())) {
      Path copies = Files.createDirectories(scratch.resolve("copies"));
      Path persistent = scratch.resolve("persistent");
      roots.sync(tree.root(), persistent);
      boolean changedNext = true;
      for (int round = 0; round < warmup + iterations; round++) {
        boolean measured = round >= warmup;
        if (round == warmup) {
          System.err.println("warmed up; measuring " + iterations + " rounds");
        }
        // cp -al
        Path copy = copies.resolve("copy-" + round);
        CpuTimes.Snapshot before = CpuTimes.snapshot();
        long started = System.nanoTime();
        run(List.of("cp", "-al", source.path().toString(), copy.toString()));
        long took = System.nanoTime() - started;
        if (measured) {
          cp.add(took);
          cp.cpu.add(before, CpuTimes.snapshot());
        }
        DirectoryTrees.delete(copy);

        // /bin/true
        started = System.nanoTime();
        run(List.of("/bin/true"));
        took = System.nanoTime() - started;
        if (measured) {
          spawn.add(took);
        }

        // prepare
        before = CpuTimes.snapshot();
        started = System.nanoTime();
        ExecRoot root = roots.prepare(tree.root());
        took = System.nanoTime() - started;
        CpuTimes.Snapshot after = CpuTimes.snapshot();
        PrepareTimes times = root.prepareTimes();
        started = System.nanoTime();
        root.close();
        long closing = System.nanoTime() - started;
        if (measured) {
          prepare.add(took);
          prepare.cpu.add(before, after);
          validation.add(times.validation().toNanos());
          findMissing.add(times.fetch().toNanos());
          materialize.add(times.materialization().toNanos());
          checked.add(times.validation().plus(times.fetch()).toNanos());
          close.add(closing);
        }

        // validation of a tree never seen (its directories are read from the local cache)
        before = CpuTimes.snapshot();
        started = System.nanoTime();
        firstSight.inputFiles(tree.root());
        took = System.nanoTime() - started;
        if (measured) {
          uncached.add(took);
          uncached.cpu.add(before, CpuTimes.snapshot());
        }

        // a persistent worker's next request
        var next = changedNext ? tree.changedRoot() : tree.root();
        changedNext = !changedNext;
        before = CpuTimes.snapshot();
        started = System.nanoTime();
        InputFiles inputs = roots.inputFiles(next);
        long listed = System.nanoTime();
        SyncedInputs synced = roots.sync(inputs, persistent, Set.of());
        long ended = System.nanoTime();
        after = CpuTimes.snapshot();
        if (synced.files().size() != tree.files()
            || synced.linked() != tree.changedFiles()
            || synced.removed() != tree.changedFiles()) {
          System.err.println("the sync did unexpected work: " + synced);
          return 1;
        }
        if (measured) {
          syncValidate.add(listed - started);
          sync.add(ended - listed);
          syncTotal.add(ended - started);
          syncTotal.cpu.add(before, after);
        }
      }
    }
    String loadAfter = Report.loadAverage();
    System.out.print(
        render(
            tree,
            List.of(
                prepare,
                validation,
                findMissing,
                materialize,
                checked,
                close,
                cp,
                spawn,
                syncValidate,
                sync,
                syncTotal,
                uncached),
            loadBefore,
            loadAfter));
    return 0;
  }

  private String render(
      LargeInputTree tree, List<Phase> phases, String loadBefore, String loadAfter) {
    Map<String, Measurement> byName = new LinkedHashMap<>();
    StringBuilder out = new StringBuilder();
    out.append("## Hearth large input trees\n\n");
    Report.machine().forEach(line -> out.append(line).append('\n'));
    out.append(
        String.format(
            Locale.ROOT,
            "- Tree: %,d files of %d bytes in %d directories (plus the root), every blob in the"
                + " worker's filesystem cache; the changed tree differs in %d files (%.1f%%)%n",
            tree.files(),
            fileBytes,
            tree.directories(),
            tree.changedFiles(),
            changedPercent));
    out.append("- Directory: ").append(tmp).append('\n');
    out.append("- Load average before: ").append(loadBefore).append(", after: ");
    out.append(loadAfter).append('\n');
    out.append('\n');
    out.append("| Measurement | Rounds (+ warm-up) | Median | Min | Max |\n");
    out.append("|---|---:|---:|---:|---:|\n");
    for (Phase phase : phases) {
      Measurement m = phase.measurement("", warmup);
      byName.put(phase.name, m);
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %d (+ %d) | %.2f ms | %.2f | %.2f |%n",
              phase.name.replace("1%", String.format(Locale.ROOT, "%.1f%%", changedPercent)),
              m.iterations(),
              m.warmups(),
              m.medianMillis(),
              m.minMillis(),
              m.maxMillis()));
    }
    out.append("\nCPU time inside the measured rounds (user + system, summed per pool; `cp`'s own");
    out.append(" CPU is its process's, not counted):\n\n");
    for (Phase phase : phases) {
      if (phase.count > 0 && phase.cpu != null && !phase.cpu.describe().startsWith("wall 0.00")) {
        out.append("- ").append(phase.name.strip()).append(": ");
        out.append(phase.cpu.describe()).append('\n');
      }
    }
    double prepareMillis = byName.get(phases.get(0).name).medianMillis();
    double cpMillis = byName.get(phases.get(6).name).medianMillis();
    double checkedMillis = byName.get(phases.get(4).name).medianMillis();
    double syncMillis = byName.get(phases.get(10).name).medianMillis();
    out.append('\n');
    out.append("| Target | Measured (median) | Goal | Result |\n");
    out.append("|---|---:|---:|---|\n");
    out.append(
        String.format(
            Locale.ROOT,
            "| exec-root set-up / `cp -al` | %.2f (%.2f / %.2f ms) | <= %.1f | %s |%n",
            prepareMillis / cpMillis,
            prepareMillis,
            cpMillis,
            SETUP_TO_CP_TARGET,
            Report.verdict(prepareMillis / cpMillis <= SETUP_TO_CP_TARGET)));
    out.append(
        String.format(
            Locale.ROOT,
            "| validation + FindMissing | %.2f ms | < %.0f ms | %s |%n",
            checkedMillis,
            VALIDATION_TARGET_MILLIS,
            Report.verdict(checkedMillis < VALIDATION_TARGET_MILLIS)));
    out.append(
        String.format(
            Locale.ROOT,
            "| persistent worker, %.1f%% changed: inputFiles + sync | %.2f ms | <= %.0f ms | %s |%n",
            changedPercent,
            syncMillis,
            SYNC_TARGET_MILLIS,
            Report.verdict(syncMillis <= SYNC_TARGET_MILLIS)));
    return out.toString();
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(Redirect.DISCARD)
            .redirectError(Redirect.INHERIT)
            .start();
    int exit = process.waitFor();
    if (exit != 0) {
      throw new IOException(command + " exited with " + exit);
    }
  }

  private static BlobStore filesystemStore(Path directory) {
    StoreContext context =
        StoreContext.newBuilder(
                "workerCache",
                StoreSettings.of("workerCache", Map.of("path", directory.toString())))
            .build();
    return StoreProviderRegistry.discover(InputTreeDriver.class.getClassLoader())
        .createBlobStore("filesystem", "workerCache.type", 0, context);
  }
}
