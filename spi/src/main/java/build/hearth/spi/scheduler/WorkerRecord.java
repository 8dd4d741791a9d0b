package build.hearth.spi.scheduler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A worker as every server sees it, so that matching, warm-worker routing and the check that an
 * action can run at all look at the workers of all servers, not only at the local ones.
 *
 * @param workerId the worker's unique name; the same across re-attachments
 * @param serverId the server it is attached to
 * @param properties its platform properties, each with its values
 * @param slots how many executions it runs at once
 * @param warmKeys the persistent-worker keys it has processes for, for routing
 * @param draining whether it takes no new work
 */
public record WorkerRecord(
    String workerId,
    String serverId,
    Map<String, List<String>> properties,
    int slots,
    Set<String> warmKeys,
    boolean draining) {
  /**
   * Checks the components; collections are copied.
   *
   * @param workerId the worker's unique name; the same across re-attachments
   * @param serverId the server it is attached to
   * @param properties its platform properties, each with its values
   * @param slots how many executions it runs at once
   * @param warmKeys the persistent-worker keys it has processes for, for routing
   * @param draining whether it takes no new work
   */
  public WorkerRecord {
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(serverId, "serverId");
    properties = copyValues(properties);
    warmKeys = Set.copyOf(warmKeys);
    if (workerId.isEmpty()) {
      throw new IllegalArgumentException("workerId is empty");
    }
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be at least 1: " + slots);
    }
  }

  private static Map<String, List<String>> copyValues(Map<String, List<String>> properties) {
    Map<String, List<String>> copy = new HashMap<>();
    properties.forEach((name, values) -> copy.put(name, List.copyOf(values)));
    return Map.copyOf(copy);
  }
}
