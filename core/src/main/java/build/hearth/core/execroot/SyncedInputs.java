package build.hearth.core.execroot;

import build.hearth.api.Digest;
import java.util.Map;
import java.util.Set;

/**
 * What {@link ExecRoots#sync} left in a directory: the input files, which of them are tool inputs,
 * and how much work the sync did.
 *
 * <p>Paths are relative to the synced directory, with {@code /} between components. The maps and
 * sets are unmodifiable and iterate in tree order: depth first from the root, each directory's
 * files in name order before its subdirectories in name order (the order of the REAPI {@code
 * Directory} messages). Only files are listed, the empty ones included; symlinks and directories
 * are not.
 *
 * <p>Immutable, so thread-safe.
 */
public final class SyncedInputs {
  private final Map<String, Digest> files;
  private final Set<String> toolInputs;
  private final int kept;
  private final int linked;
  private final int removed;
  private final int trusted;
  private final int unlisted;

  SyncedInputs(
      Map<String, Digest> files,
      Set<String> toolInputs,
      int kept,
      int linked,
      int removed,
      int trusted,
      int unlisted) {
    this.files = files;
    this.toolInputs = toolInputs;
    this.kept = kept;
    this.linked = linked;
    this.removed = removed;
    this.trusted = trusted;
    this.unlisted = unlisted;
  }

  /**
   * Every input file, by path, with its digest: what a {@code WorkRequest} lists as its inputs
   * ({@link Digest#hash()} is the hex digest it wants).
   */
  public Map<String, Digest> files() {
    return files;
  }

  /**
   * The paths of the input files that carry the node property {@code bazel_tool_input} (Bazel marks
   * the files of the tool itself so with {@code --experimental_remote_mark_tool_inputs}); a subset
   * of {@link #files()}'s keys.
   */
  public Set<String> toolInputs() {
    return toolInputs;
  }

  /** How many input files and symlinks were already right and left untouched. */
  public int kept() {
    return kept;
  }

  /** How many input files and symlinks were created (linked, copied or made empty). */
  public int linked() {
    return linked;
  }

  /**
   * How many entries were deleted: files, symlinks and directories that the tree does not have at
   * their path or that were no longer right, each entry of a deleted directory counted.
   */
  public int removed() {
    return removed;
  }

  /**
   * How many of the {@link #kept()} entries were kept on the last sync's record alone: their {@code
   * lstat} matched the one the last sync recorded for them (same inode, mode, size, modification
   * and change time), so the local cache was not consulted.
   */
  public int trusted() {
    return trusted;
  }

  /**
   * How many directories were not listed, because their own stamp and {@code Directory} were those
   * the last sync recorded, so no entry can have been added, removed or renamed in them.
   */
  public int unlisted() {
    return unlisted;
  }

  @Override
  public String toString() {
    return "SyncedInputs{"
        + files.size()
        + " files, "
        + toolInputs.size()
        + " tool inputs; kept "
        + kept
        + ", linked "
        + linked
        + ", removed "
        + removed
        + "; trusted "
        + trusted
        + ", unlisted directories "
        + unlisted
        + "}";
  }
}
