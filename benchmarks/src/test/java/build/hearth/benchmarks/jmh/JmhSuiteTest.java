package build.hearth.benchmarks.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.benchmarks.jmh.execroot.ExecRootLinkingBenchmark;
import build.hearth.benchmarks.jmh.execroot.InputTreeValidationBenchmark;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs every benchmark of this package and its sub-packages once, briefly and in this JVM (JMH's
 * {@code -f 0 -wi 0 -i 1}), so that a benchmark broken by a change in the code it measures fails
 * the build instead of rotting. Nothing is timed or compared: JMH fails the run when a benchmark
 * method throws (each Hearth method checks its own answer).
 */
class JmhSuiteTest {
  private static final List<Class<?>> BENCHMARKS =
      List.of(
          DigestBenchmark.class,
          ResourceNameBenchmark.class,
          FindMissingBenchmark.class,
          WorkerFramingBenchmark.class,
          ExecRootLinkingBenchmark.class,
          InputTreeValidationBenchmark.class);

  @Test
  void everyBenchmarkRunsOnce() throws RunnerException {
    Options options =
        new OptionsBuilder()
            // This package's classes and those of its sub-packages (execroot).
            .include("^build\\.hearth\\.benchmarks\\.jmh\\.([a-z]+\\.)?[A-Za-z]+Benchmark\\.")
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(50))
            .timeUnit(TimeUnit.MICROSECONDS)
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT)
            .build();

    Collection<RunResult> results = new Runner(options).run();

    Set<String> ran = new TreeSet<>();
    for (RunResult result : results) {
      ran.add(result.getParams().getBenchmark());
      assertThat(result.getPrimaryResult().getSampleCount()).isPositive();
    }
    Set<String> declared = new TreeSet<>();
    for (Class<?> benchmark : BENCHMARKS) {
      for (Method method : benchmark.getDeclaredMethods()) {
        if (method.isAnnotationPresent(Benchmark.class)) {
          declared.add(benchmark.getName() + "." + method.getName());
        }
      }
    }
    assertThat(ran).isEqualTo(declared);
    // Every class measures a baseline beside Hearth's code.
    for (Class<?> benchmark : BENCHMARKS) {
      assertThat(Arrays.stream(benchmark.getDeclaredMethods()).map(Method::getName))
          .as(benchmark.getSimpleName())
          .anyMatch(name -> name.startsWith("baseline"));
    }
  }
}
