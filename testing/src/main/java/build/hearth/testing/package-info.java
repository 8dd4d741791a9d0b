/**
 * Conformance suites (TCK) for Hearth plugins: abstract JUnit 5 classes that a storage plugin
 * extends with one factory method, such as {@link build.hearth.testing.BlobStoreContractTest} and
 * {@link build.hearth.testing.ActionCacheStoreContractTest}, declaring what its store can do
 * through capability methods. The built-in stores pass the same suites. This module brings no gRPC:
 * a transport plugin's suite, which talks REAPI over a gRPC channel, is {@code
 * build.hearth.testing.transport.TransportContractTest} in the separate artifact {@code
 * hearth-testing-transport}. This module is published with main scope, so a plugin adds it as an
 * ordinary test dependency, next to JUnit Jupiter's engine as for any JUnit 5 test:
 *
 * <pre>{@code
 * <dependency>
 *   <groupId>build.hearth</groupId>
 *   <artifactId>hearth-testing</artifactId>
 *   <version>${hearth.version}</version>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 *
 * <p>A plugin's first test is one class per store. A store that keeps its data across a close (a
 * database, files) also says how to open the same data again, and declares that it does; every test
 * of the suite, and its invariant checks, then run against it:
 *
 * <pre>{@code
 * class SqliteBlobStoreTest extends BlobStoreContractTest {
 *   @TempDir Path dir;
 *   private Path current;
 *   private int opened;
 *
 *   @Override
 *   protected BlobStore newStore(long capacityBytes) {   // required: a new, empty store
 *     current = dir.resolve("store-" + opened++ + ".db");
 *     return SqliteBlobStore.open(current, capacityBytes);
 *   }
 *
 *   @Override
 *   protected BlobStore reopen(long capacityBytes) {     // the data of the store opened last
 *     return SqliteBlobStore.open(current, capacityBytes);
 *   }
 *
 *   @Override
 *   protected boolean survivesReopen() {
 *     return true;
 *   }
 * }
 * }</pre>
 *
 * <p>A failing test's name says which promise of the SPI the store broke, and its documentation
 * says what the test does. {@link build.hearth.testing.FakeClock} serves the tests of a plugin's
 * own time-dependent behaviour, through {@code StoreContext.Builder.clock}.
 */
package build.hearth.testing;
