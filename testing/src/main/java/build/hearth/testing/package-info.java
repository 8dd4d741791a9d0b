/**
 * Conformance suites (TCK) for Hearth plugins: abstract JUnit 5 classes that a storage plugin
 * extends with one factory method, such as {@link build.hearth.testing.BlobStoreContractTest} and
 * {@link build.hearth.testing.ActionCacheStoreContractTest}, declaring what its store can do
 * through capability methods. The built-in stores pass the same suites. This module is published
 * with main scope, so a plugin adds it as an ordinary test dependency.
 */
package build.hearth.testing;
