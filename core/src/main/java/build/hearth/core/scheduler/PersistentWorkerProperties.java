package build.hearth.core.scheduler;

import java.util.List;

/**
 * The platform properties of a persistent-worker action. The worker that runs such an action reads
 * them to pick a warm tool process, {@link WarmWorkers} routes on the key, and every scheduler
 * accepts all of them without matching on them, since none may restrict which workers can run the
 * action.
 */
public final class PersistentWorkerProperties {
  /** Names the action's persistent-worker key, which pools its tool processes. */
  public static final String KEY = "persistentWorkerKey";

  /** Names a tool from the worker's {@code persistentWorkers.tools}. */
  public static final String TOOL = "persistentWorkerTool";

  /** The worker protocol: {@code proto} (or {@code protobuf}) or {@code json}. */
  public static final String PROTOCOL = "persistentWorkerProtocol";

  /** {@code true} for a tool that takes several requests at once. */
  public static final String MULTIPLEX = "persistentWorkerMultiplex";

  /** All of the above. */
  public static final List<String> ALL = List.of(KEY, TOOL, PROTOCOL, MULTIPLEX);

  private PersistentWorkerProperties() {}
}
