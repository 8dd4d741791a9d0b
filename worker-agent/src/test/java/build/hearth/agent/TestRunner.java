package build.hearth.agent;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A runner whose command line says what to do, reading and writing through the remote CAS the agent
 * gives it:
 *
 * <ul>
 *   <li>{@code upper DIGEST}: reads the input blob, writes it upper-cased as output file {@code
 *       out};
 *   <li>{@code block TOKEN}: waits until cancelled, then reports CANCELLED;
 *   <li>{@code gate TOKEN}: waits until the test {@linkplain Script#release releases} the token,
 *       then completes with exit code 0 (or reports CANCELLED if cancelled first);
 *   <li>{@code block-once TOKEN DIGEST}: the first run with this token is {@code block}, later ones
 *       are {@code upper DIGEST};
 *   <li>{@code fail CODE MESSAGE}: throws a HearthException;
 *   <li>{@code overtime}: reports DEADLINE_EXCEEDED with a partial result;
 *   <li>{@code killed MESSAGE}: reports a command that ran (OK) and exited 137, with {@code
 *       MESSAGE};
 *   <li>{@code report-warm KEY COUNT}: reports {@code KEY -> COUNT} idle persistent-worker
 *       processes through {@link Script#warmReporter}, then completes with exit code 0.
 * </ul>
 *
 * <p>What the runners of several agents did is recorded in one shared {@link Script}.
 */
final class TestRunner implements ActionRunner {

  /** The record shared by the runners of one test. */
  static final class Script {
    final BlockingQueue<String> started = new LinkedBlockingQueue<>();
    final AtomicInteger cancelled = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final Set<String> blockedOnce = ConcurrentHashMap.newKeySet();
    private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();

    /** Lets the {@code gate TOKEN} actions complete. */
    void release(String token) {
      gate(token).countDown();
    }

    CountDownLatch gate(String token) {
      return gates.computeIfAbsent(token, unused -> new CountDownLatch(1));
    }

    /** Where {@code report-warm} reports to, such as the agent's reportWarmProcesses. */
    volatile Consumer<Map<String, Integer>> warmReporter = idle -> {};

    /** A runner factory for {@link WorkerAgent.Builder#runner}. */
    Function<Function<String, ContentAddressableStorage>, ActionRunner> factory() {
      return casOf -> new TestRunner(casOf, this);
    }
  }

  private final Function<String, ContentAddressableStorage> casOf;
  private final Script script;

  TestRunner(Function<String, ContentAddressableStorage> casOf, Script script) {
    this.casOf = casOf;
    this.script = script;
  }

  @Override
  public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
    List<String> args = task.command().getArgumentsList();
    script.started.add(String.join(" ", args));
    ContentAddressableStorage cas = casOf.apply(task.instanceName());
    switch (args.get(0)) {
      case "upper" -> {
        return upper(cas, Digest.parse(args.get(1)));
      }
      case "block" -> {
        return block(cancellation);
      }
      case "gate" -> {
        return gate(args.get(1), cancellation);
      }
      case "block-once" -> {
        if (script.blockedOnce.add(args.get(1))) {
          return block(cancellation);
        }
        return upper(cas, Digest.parse(args.get(2)));
      }
      case "report-warm" -> {
        script.warmReporter.accept(Map.of(args.get(1), Integer.parseInt(args.get(2))));
        return ActionOutcome.completed(ActionResult.newBuilder().setExitCode(0).build());
      }
      case "fail" -> throw new HearthException(StatusCode.valueOf(args.get(1)), args.get(2));
      case "overtime" -> {
        Digest stdout = cas.put(ByteString.copyFromUtf8("partial output"));
        return new ActionOutcome(
            ActionResult.newBuilder().setExitCode(-1).setStdoutDigest(stdout.toProto()).build(),
            StatusCode.DEADLINE_EXCEEDED,
            "the command ran over its timeout");
      }
      case "killed" -> {
        return new ActionOutcome(
            ActionResult.newBuilder().setExitCode(137).build(), StatusCode.OK, args.get(1));
      }
      default -> throw new IllegalArgumentException("unknown test command " + args);
    }
  }

  private static ActionOutcome upper(ContentAddressableStorage cas, Digest input) {
    byte[] bytes;
    try (InputStream in = cas.read(input, 0, 0)) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw HearthException.unavailable("reading " + input + " failed", e);
    }
    byte[] upper =
        new String(bytes, StandardCharsets.UTF_8)
            .toUpperCase(Locale.ROOT)
            .getBytes(StandardCharsets.UTF_8);
    Digest output = Digest.of(upper);
    // Through a streaming upload in pieces, so that path of the client is exercised too.
    try (BlobUpload upload = cas.startUpload(output)) {
      int piece = Math.max(1, upper.length / 3);
      for (int offset = 0; offset < upper.length; offset += piece) {
        upload.write(upper, offset, Math.min(piece, upper.length - offset));
      }
      upload.commit();
    }
    return ActionOutcome.completed(
        ActionResult.newBuilder()
            .setExitCode(0)
            .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(output.toProto()))
            .build());
  }

  private ActionOutcome block(Cancellation cancellation) {
    CountDownLatch latch = new CountDownLatch(1);
    cancellation.onCancel(latch::countDown);
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new HearthException(StatusCode.INTERNAL, "never cancelled");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HearthException(StatusCode.CANCELLED, "interrupted");
    }
    script.cancelled.incrementAndGet();
    return new ActionOutcome(
        ActionResult.newBuilder().setExitCode(-1).build(), StatusCode.CANCELLED, "cancelled");
  }

  private ActionOutcome gate(String token, Cancellation cancellation) {
    CountDownLatch gate = script.gate(token);
    cancellation.onCancel(gate::countDown);
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new HearthException(StatusCode.INTERNAL, "never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HearthException(StatusCode.CANCELLED, "interrupted");
    }
    if (cancellation.isCancelled()) {
      script.cancelled.incrementAndGet();
      return new ActionOutcome(
          ActionResult.newBuilder().setExitCode(-1).build(), StatusCode.CANCELLED, "cancelled");
    }
    return ActionOutcome.completed(ActionResult.newBuilder().setExitCode(0).build());
  }

  @Override
  public void close() {
    script.closed.incrementAndGet();
  }
}
