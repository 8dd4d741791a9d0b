package build.hearth.core.remote;

import build.hearth.core.ops.WorkerReports;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.proto.workerapi.SandboxRefusal;
import build.hearth.proto.workerapi.SandboxReport;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A worker's sandbox between its {@link SandboxCapabilities} and the worker API's {@link
 * SandboxReport}: the remote worker sends what it found at start, the server keeps it for its admin
 * endpoint. Stateless.
 */
public final class SandboxReports {
  /** The most parts a report may list as available, and as refused. */
  public static final int MAX_PARTS = 16;

  /** The longest text of a report (a label, a reason, the user), in characters. */
  public static final int MAX_TEXT_LENGTH = 4096;

  private SandboxReports() {}

  /** {@return what a worker sends of {@code capabilities} when it registers} */
  public static SandboxReport toProto(SandboxCapabilities capabilities) {
    SandboxReport.Builder report =
        SandboxReport.newBuilder()
            .setMode(capabilities.mode().name().toLowerCase(Locale.ROOT))
            .setCgroups(capabilities.cgroups())
            .setActionUser(capabilities.actionUser());
    capabilities.available().forEach(part -> report.addAvailable(part.label()));
    capabilities
        .refused()
        .forEach(
            (part, why) ->
                report.addRefused(
                    SandboxRefusal.newBuilder().setPart(part.label()).setReason(why)));
    return report.build();
  }

  /**
   * {@return the server's record of what worker {@code worker} reported}
   *
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT if the report is over {@link
   *     #MAX_PARTS} or {@link #MAX_TEXT_LENGTH}
   */
  public static WorkerReports.Sandbox fromProto(String worker, SandboxReport report) {
    WorkerLimits.checkSandbox(worker, report);
    Map<String, String> refused = new LinkedHashMap<>();
    for (SandboxRefusal refusal : report.getRefusedList()) {
      refused.merge(refusal.getPart(), refusal.getReason(), (a, b) -> a + "; " + b);
    }
    return new WorkerReports.Sandbox(
        report.getMode(),
        report.getAvailableList(),
        refused,
        report.getCgroups(),
        report.getActionUser());
  }
}
