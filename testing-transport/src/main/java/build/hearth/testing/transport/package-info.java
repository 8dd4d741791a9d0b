/**
 * The conformance suite (TCK) for transport plugins: {@link
 * build.hearth.testing.transport.TransportContractTest}, an abstract JUnit 5 class whose REAPI
 * client a transport plugin's test points at its transport over a gRPC channel. It lives apart from
 * the storage suites of {@code hearth-testing} so that a storage plugin's tests never have gRPC on
 * their class path. Published with main scope; a transport plugin adds it as a test dependency:
 *
 * <pre>{@code
 * <dependency>
 *   <groupId>build.hearth</groupId>
 *   <artifactId>hearth-testing-transport</artifactId>
 *   <version>${hearth.version}</version>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 */
package build.hearth.testing.transport;
