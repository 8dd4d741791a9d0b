/**
 * The JMH suite: microbenchmarks of the hot paths behind issue 18's numbers (digest parsing and
 * formatting, resource names, FindMissingBlobs index lookups, the persistent-worker protocol's
 * framing). Every class measures, beside Hearth's code, a baseline on the same input (a JDK or
 * library call doing the least that job needs), so a score reads as "n times the baseline" rather
 * than as an absolute figure that depends on the machine. Run from the shaded jar:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/hearth-benchmarks.jar org.openjdk.jmh.Main 'build.hearth.benchmarks.jmh'
 * </pre>
 *
 * <p>The defaults in each class keep a run to minutes (one fork, a few short iterations); see
 * docs/benchmarks.md, "JMH suite". Sub-packages hold other helpers' benchmarks ({@code execroot}).
 */
package build.hearth.benchmarks.jmh;
