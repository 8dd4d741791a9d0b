/**
 * The worker's file-system side of running an action: validating a REAPI input tree before anything
 * runs, filling the local CAS cache with only the blobs it lacks, materializing the tree as an exec
 * root of hard links to the cached files (or syncing a tool process's long-lived directory with
 * each request's tree, changing only what differs), collecting the action's outputs (files,
 * directories as {@code Tree}s, symlinks, never followed out of the exec root) into a CAS, and
 * deleting the exec root afterwards. The cache's files are shared with every exec root, so they are
 * made read-only to all ({@code r--r--r--}) before they are linked; a root handed over to the
 * action's own user leaves them out of its reach, and any other root checks them when it closes and
 * drops what its action changed. {@link build.hearth.core.execroot.ExecRoots} and {@link
 * build.hearth.core.execroot.ExecRoot} are the entry points, {@link
 * build.hearth.core.execroot.SyncedInputs} what a sync reports; everything else is package-private.
 * Internal to Hearth's core, not part of its API.
 */
package build.hearth.core.execroot;
