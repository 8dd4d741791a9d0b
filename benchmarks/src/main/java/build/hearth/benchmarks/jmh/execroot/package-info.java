/**
 * JMH microbenchmarks of exec-root preparation on a large cached input tree (issue 18): input-tree
 * validation ({@link build.hearth.benchmarks.jmh.execroot.InputTreeValidationBenchmark}) and
 * exec-root linking ({@link build.hearth.benchmarks.jmh.execroot.ExecRootLinkingBenchmark}), each
 * beside the baseline it is compared with. The input-tree load driver ({@code hearth-benchmarks
 * input-tree}) measures the same paths against {@code cp -al}; see {@code docs/benchmarks.md}.
 */
package build.hearth.benchmarks.jmh.execroot;
