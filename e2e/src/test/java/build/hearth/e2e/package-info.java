/**
 * End-to-end tests that drive the real Bazel client against an in-process Hearth, as a remote cache
 * and as a remote executor with workers inside the server or in processes of their own: a harness
 * that copies a workspace template to a fresh directory ({@link build.hearth.e2e.BazelWorkspace}),
 * runs the {@code bazel} binary with hermetic, offline-safe flags ({@link build.hearth.e2e.Bazel}),
 * starts worker processes ({@link build.hearth.e2e.WorkerProcess}), and reads back what Bazel did
 * ({@link build.hearth.e2e.ProcessSummary}, {@link build.hearth.e2e.OutputFiles}). The harness is
 * test code shared by every end-to-end test class; it fails, never skips, when Bazel is missing.
 */
package build.hearth.e2e;
