package build.hearth.benchmarks.jmh.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.hearth.api.Digest;
import build.hearth.core.execroot.ExecRoots;
import build.hearth.core.execroot.InputFiles;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Input-tree validation of a large tree whose directories are all in the worker's local cache:
 * {@link ExecRoots#inputFiles} (validation and the list of files, as a persistent worker calls it)
 * with the checked directories kept between trees ({@code kept}, the tree seen before) and with
 * none kept ({@code none}, the tree seen first: every directory read from the local cache, parsed
 * and checked).
 *
 * <p>Baseline: {@link #baselineParseEveryDirectory}, parsing every {@code Directory} message of the
 * tree from bytes already on the heap, nothing checked: the floor of a validator that reads each
 * directory once, which {@code none} is compared with.
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main InputTreeValidation
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class InputTreeValidationBenchmark {
  @Param({"10000"})
  int files;

  @Param({"500"})
  int directories;

  @Param({"kept", "none"})
  String checked;

  private WorkerCache worker;
  private ExecRoots roots;
  private List<ByteString> serialized;

  @Setup
  public void setUp() throws IOException {
    worker = new WorkerCache(files, directories);
    roots = worker.execRoots("work", checked.equals("kept"));
    roots.inputFiles(worker.tree.root());
    serialized = new ArrayList<>();
    Deque<Digest> pending = new ArrayDeque<>(List.of(worker.tree.root()));
    while (!pending.isEmpty()) {
      ByteString bytes = worker.cache.get(pending.pop());
      serialized.add(bytes);
      for (DirectoryNode child : Directory.parseFrom(bytes).getDirectoriesList()) {
        pending.push(Digest.fromProto(child.getDigest()));
      }
    }
  }

  @TearDown
  public void tearDown() {
    roots.close();
    worker.close();
  }

  @Benchmark
  public InputFiles inputFiles() {
    return roots.inputFiles(worker.tree.root());
  }

  @Benchmark
  public void baselineParseEveryDirectory(Blackhole blackhole)
      throws InvalidProtocolBufferException {
    for (ByteString bytes : serialized) {
      blackhole.consume(Directory.parseFrom(bytes));
    }
  }
}
