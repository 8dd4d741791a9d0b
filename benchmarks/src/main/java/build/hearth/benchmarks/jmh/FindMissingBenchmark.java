package build.hearth.benchmarks.jmh;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * FindMissingBlobs' index lookups on the built-in stores, through the embedding API (the verifying
 * CAS in front of the store), without a transport: 10,000 digests in random order, half of them
 * present, as in the CAS load driver.
 *
 * <p>Baseline: {@link #baselineHashSet}, {@code HashSet.contains} of the same {@code Digest}s in a
 * set of the present ones, the least a lookup by digest can cost on the heap. {@link #findMissing}
 * runs {@code cas.findMissing} on the store named by {@code store}. Scores are per digest.
 *
 * <pre>
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main FindMissingBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FindMissingBenchmark {
  static final int DIGESTS = 10_000;

  @Param({"memory", "filesystem"})
  public String store;

  private Path directory;
  private Hearth hearth;
  private ContentAddressableStorage cas;
  private List<Digest> digests;
  private Set<Digest> present;

  /** A fresh store holding half of {@value #DIGESTS} blobs of 64 bytes. */
  @Setup
  public void setUp() throws IOException {
    directory = Files.createTempDirectory("hearth-jmh-");
    Map<String, String> settings =
        store.equals("filesystem")
            ? Map.of("path", directory.resolve("cas").toString(), "maxSize", "1GiB")
            : Map.of("maxSize", "1GiB");
    hearth = Hearth.newBuilder().blobStore(store, settings).build();
    cas = hearth.cas();
    Random random = new Random(18);
    digests = new ArrayList<>();
    present = new HashSet<>();
    Map<Digest, ByteString> batch = new LinkedHashMap<>();
    for (int i = 0; i < DIGESTS; i++) {
      byte[] blob = new byte[64];
      random.nextBytes(blob);
      Digest digest = Digest.of(blob);
      digests.add(digest);
      if (i % 2 == 0) {
        present.add(digest);
        batch.put(digest, ByteString.copyFrom(blob));
        if (batch.size() == 1000) {
          putAll(batch);
        }
      }
    }
    putAll(batch);
    Collections.shuffle(digests, random);
  }

  private void putAll(Map<Digest, ByteString> batch) {
    for (ContentAddressableStorage.BlobStatus status : cas.putAll(batch)) {
      if (!status.ok()) {
        throw new IllegalStateException(
            "putAll refused " + status.digest() + ": " + status.message());
      }
    }
    batch.clear();
  }

  /** Closes the store and deletes its directory. */
  @TearDown
  public void tearDown() throws IOException {
    hearth.close();
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(DIGESTS)
  public int baselineHashSet() {
    int missing = 0;
    for (Digest digest : digests) {
      if (!present.contains(digest)) {
        missing++;
      }
    }
    return missing;
  }

  @Benchmark
  @OperationsPerInvocation(DIGESTS)
  public int findMissing() {
    int missing = cas.findMissing(digests).size();
    if (missing != DIGESTS / 2) {
      throw new IllegalStateException(missing + " digests missing, expected " + DIGESTS / 2);
    }
    return missing;
  }
}
