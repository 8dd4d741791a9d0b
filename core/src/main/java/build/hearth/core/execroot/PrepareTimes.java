package build.hearth.core.execroot;

import java.time.Duration;
import java.util.Objects;

/**
 * How long each step of {@link ExecRoots#prepare} took for one exec root: what a worker reports as
 * its input-fetch time, and what the input-tree load driver compares with {@code cp -al}.
 *
 * @param validation reading and checking the input tree's directories
 * @param fetch asking the local cache which input blobs it lacks and fetching those (with every
 *     input cached, one FindMissing lookup of the tree's files)
 * @param materialization creating the exec root's directories, links and symlinks
 */
public record PrepareTimes(Duration validation, Duration fetch, Duration materialization) {
  /** For exec roots not made by {@link ExecRoots#prepare}. */
  public static final PrepareTimes NONE =
      new PrepareTimes(Duration.ZERO, Duration.ZERO, Duration.ZERO);

  public PrepareTimes {
    Objects.requireNonNull(validation, "validation");
    Objects.requireNonNull(fetch, "fetch");
    Objects.requireNonNull(materialization, "materialization");
  }

  /** The three steps together. */
  public Duration total() {
    return validation.plus(fetch).plus(materialization);
  }
}
