package build.hearth.benchmarks.jmh.execroot;

import build.hearth.api.Digest;
import build.hearth.core.execroot.ExecRoot;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execroot.InputFiles;
import build.hearth.spi.storage.LocalBlobFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Exec-root set-up of a large tree whose blobs are all in the worker's local cache: {@link
 * ExecRoots#prepare} (validation with the tree's directories kept, the cache's FindMissing, the
 * directories and hard links), the exec root deleted after each invocation, untimed.
 *
 * <p>Baseline: {@link #baselineCreateLinks}, the same directories and the same hard links made with
 * {@link Files#createDirectories} and {@link Files#createLink} from a list prepared outside the
 * timed region: the file system's cost for that tree through Java, with none of the worker's checks
 * (read-only modes, link records, eviction retries). The load driver compares with {@code cp -al}
 * instead, the same cost without the JVM.
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main ExecRootLinking
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 20)
@Fork(1)
public class ExecRootLinkingBenchmark {
  @Param({"10000"})
  int files;

  @Param({"500"})
  int directories;

  private WorkerCache worker;
  private ExecRoots roots;
  private final List<Path[]> links = new ArrayList<>();
  // Parents before children (tree order), each once.
  private final List<Path> directoriesToMake = new ArrayList<>();
  private Path linkRoot;
  private ExecRoot prepared;
  private int round;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    worker = new WorkerCache(files, directories);
    roots = worker.execRoots("work", true);
    roots.prepare(worker.tree.root()).close();
    InputFiles inputs = roots.inputFiles(worker.tree.root());
    LocalBlobFiles cacheFiles = (LocalBlobFiles) worker.cacheStore;
    Set<Path> parents = new LinkedHashSet<>();
    for (Map.Entry<String, Digest> file : inputs.files().entrySet()) {
      Path cached = cacheFiles.pathOf(file.getValue()).orElseThrow();
      Path path = Path.of(file.getKey());
      links.add(new Path[] {path, cached});
      if (path.getParent() != null) {
        parents.add(path.getParent());
      }
    }
    directoriesToMake.addAll(parents);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    roots.close();
    worker.close();
  }

  @Setup(Level.Iteration)
  public void newLinkRoot() {
    linkRoot = worker.directory.resolve("links-" + round++);
  }

  @TearDown(Level.Iteration)
  public void deleteRoots() {
    if (prepared != null) {
      prepared.close();
      prepared = null;
    }
    WorkerCache.delete(linkRoot);
  }

  @Benchmark
  public ExecRoot prepare() {
    prepared = roots.prepare(worker.tree.root());
    return prepared;
  }

  @Benchmark
  public Path baselineCreateLinks() throws IOException {
    Files.createDirectory(linkRoot);
    for (Path directory : directoriesToMake) {
      Files.createDirectories(linkRoot.resolve(directory));
    }
    for (Path[] link : links) {
      Files.createLink(linkRoot.resolve(link[0]), link[1]);
    }
    return linkRoot;
  }
}
