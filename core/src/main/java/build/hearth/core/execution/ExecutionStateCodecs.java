package build.hearth.core.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.hearth.api.Digest;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.StateCodec;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ExtensionRegistryLite;
import java.io.IOException;
import java.time.Duration;

/**
 * How execution tasks and outcomes are kept in a shared scheduler state: protobuf's wire format,
 * written field by field so that core needs no message of its own. Fields are numbered as a message
 * would number them, so a later field can be added and an older server skips it.
 *
 * <pre>
 * task:    1 instance_name (string), 2 action_digest (REAPI Digest), 3 action (REAPI Action),
 *          4 command (REAPI Command), 5 timeout seconds (int64), 6 timeout nanos (int32)
 * outcome: 1 code (int32), 2 message (string), 3 result (REAPI ActionResult)
 * </pre>
 */
public final class ExecutionStateCodecs {
  private ExecutionStateCodecs() {}

  /** {@return the codec of the tasks a scheduler of executions queues} */
  public static StateCodec<ExecutionTask> tasks() {
    return TASKS;
  }

  /** {@return the codec of the outcomes workers report} */
  public static StateCodec<ActionOutcome> outcomes() {
    return OUTCOMES;
  }

  private static final StateCodec<ExecutionTask> TASKS =
      new StateCodec<>() {
        @Override
        public ByteString encode(ExecutionTask task) {
          ByteString.Output bytes = ByteString.newOutput(256);
          CodedOutputStream out = CodedOutputStream.newInstance(bytes);
          try {
            out.writeString(1, task.instanceName());
            out.writeMessage(2, task.actionDigest().toProto());
            out.writeMessage(3, task.action());
            out.writeMessage(4, task.command());
            out.writeInt64(5, task.timeout().getSeconds());
            out.writeInt32(6, task.timeout().getNano());
            out.flush();
          } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
          }
          return bytes.toByteString();
        }

        @Override
        public ExecutionTask decode(ByteString bytes) {
          String instance = "";
          Digest digest = null;
          Action action = Action.getDefaultInstance();
          Command command = Command.getDefaultInstance();
          long seconds = 0;
          int nanos = 0;
          try {
            CodedInputStream in = bytes.newCodedInput();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
              switch (tag >>> 3) {
                case 1 -> instance = in.readString();
                case 2 ->
                    digest =
                        Digest.fromProto(
                            in.readMessage(
                                build.bazel.remote.execution.v2.Digest.parser(),
                                ExtensionRegistryLite.getEmptyRegistry()));
                case 3 ->
                    action =
                        in.readMessage(Action.parser(), ExtensionRegistryLite.getEmptyRegistry());
                case 4 ->
                    command =
                        in.readMessage(Command.parser(), ExtensionRegistryLite.getEmptyRegistry());
                case 5 -> seconds = in.readInt64();
                case 6 -> nanos = in.readInt32();
                default -> in.skipField(tag);
              }
            }
          } catch (IOException e) {
            throw new IllegalArgumentException("not an execution task: " + e.getMessage(), e);
          }
          if (digest == null) {
            throw new IllegalArgumentException("not an execution task: it names no action digest");
          }
          return new ExecutionTask(
              instance, digest, action, command, Duration.ofSeconds(seconds, nanos));
        }
      };

  private static final StateCodec<ActionOutcome> OUTCOMES =
      new StateCodec<>() {
        @Override
        public ByteString encode(ActionOutcome outcome) {
          ByteString.Output bytes = ByteString.newOutput(256);
          CodedOutputStream out = CodedOutputStream.newInstance(bytes);
          try {
            out.writeInt32(1, outcome.code().value());
            out.writeString(2, outcome.message());
            out.writeMessage(3, outcome.result());
            out.flush();
          } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
          }
          return bytes.toByteString();
        }

        @Override
        public ActionOutcome decode(ByteString bytes) {
          int code = 0;
          String message = "";
          ActionResult result = ActionResult.getDefaultInstance();
          try {
            CodedInputStream in = bytes.newCodedInput();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
              switch (tag >>> 3) {
                case 1 -> code = in.readInt32();
                case 2 -> message = in.readString();
                case 3 ->
                    result =
                        in.readMessage(
                            ActionResult.parser(), ExtensionRegistryLite.getEmptyRegistry());
                default -> in.skipField(tag);
              }
            }
          } catch (IOException e) {
            throw new IllegalArgumentException("not an action outcome: " + e.getMessage(), e);
          }
          return new ActionOutcome(result, StatusCode.forValue(code), message);
        }
      };
}
