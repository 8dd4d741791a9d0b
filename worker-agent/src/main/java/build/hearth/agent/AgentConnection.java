package build.hearth.agent;

import static build.hearth.grpc.common.WorkerApiProtocol.MISSED_KEEP_ALIVES;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.internal.ProtoTime;
import build.hearth.grpc.common.Rpc;
import build.hearth.grpc.common.SerialObserver;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.Drain;
import build.hearth.proto.workerapi.KeepAlive;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.Registered;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WarmKey;
import build.hearth.proto.workerapi.WarmProcesses;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.proto.workerapi.WorkerStatus;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Connect stream of a {@link WorkerAgent}: registers, runs the assignments that arrive on the
 * agent's slot threads, answers each exactly once on this same stream, and exchanges keep-alives.
 *
 * <p>When the stream ends, the actions still running for it are cancelled and their answers dropped
 * (the scheduler has already queued them again, and an answer on a new stream would name an
 * assignment it does not know), unless the server said at registration that it keeps a lost
 * worker's actions (a shared scheduler's {@code reattach_grace}): then they run on, held by the
 * agent, and the next stream names them in its Register, through whichever server of the service it
 * reaches; it answers those the server adopted and cancels the others. The agent then opens a new
 * connection.
 *
 * <p>gRPC delivers the scheduler's messages one at a time; slot threads and the timer send through
 * a {@link SerialObserver}; {@link #ended} makes the end happen once.
 */
final class AgentConnection implements ClientResponseObserver<WorkerMessage, SchedulerMessage> {
  private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);

  /** How long the scheduler has to answer Register. */
  static final Duration REGISTRATION_TIMEOUT = Duration.ofSeconds(30);

  private static final WorkerMessage KEEP_ALIVE =
      WorkerMessage.newBuilder().setKeepAlive(KeepAlive.getDefaultInstance()).build();

  private static final WorkerMessage DRAIN =
      WorkerMessage.newBuilder().setDrain(Drain.getDefaultInstance()).build();

  /** What the connection tells its agent. */
  interface Owner {
    /** The scheduler accepted the registration. */
    void registered(AgentConnection connection);

    /** The stream ended; {@code status} says why. Not called after {@link #shutdown()}. */
    void ended(AgentConnection connection, Status status);

    /**
     * Takes back actions no stream answers for: those of a stream that ended while its server keeps
     * a lost worker's actions, and those offered to a server that did not register this worker. The
     * owner cancels each once its {@link HeldAction#orphanedUntilMillis()} passes, or offers it to
     * its next stream.
     */
    void keep(Collection<HeldAction> actions);
  }

  /**
   * A message of which only the latest state matters: at most one waits in the stream's queue, and
   * it is made when its turn comes, so that it carries the state of that moment.
   */
  private final class Latest {
    // Whether a message is queued and has not yet read the state it will carry.
    private final AtomicBoolean queued = new AtomicBoolean();
    private final Supplier<WorkerMessage> message; // makes null when there is nothing to send

    Latest(Supplier<WorkerMessage> message) {
      this.message = message;
    }

    /** Queues the message unless one is queued already or Register has not gone out yet. */
    void changed() {
      if (!registerSent || ended.get()) {
        return;
      }
      if (queued.compareAndSet(false, true)) {
        out.onNextLatest(
            () -> {
              // Cleared before reading, so that a change made after the read queues a message of
              // its own.
              queued.set(false);
              return message.get();
            });
      }
    }
  }

  private final Owner owner;
  private final Register register;
  private final Supplier<Map<String, Integer>> warmProcesses; // sorted by key, as sent
  private final Supplier<WorkerStatus> status; // null: send none
  private final Duration statusInterval;
  private final ActionRunner runner;
  private final Executor slots;
  private final ScheduledExecutorService timer;
  private final Clock clock;
  private final Map<String, HeldAction> running = new ConcurrentHashMap<>();
  // Actions of an earlier stream, named in Register.running, until Registered says which the
  // server adopted.
  private final Map<String, HeldAction> offered;
  // How long the server keeps this worker's actions when the stream ends (Registered's
  // reattach_grace); 0 when it queues them again at once, as servers of their own do.
  private volatile long reattachGraceMillis;
  private final AtomicBoolean ended = new AtomicBoolean();
  private final Latest warmReport = new Latest(this::warmProcessesMessage);
  private final Latest statusReport = new Latest(this::statusMessage);
  // What the last WarmProcesses said; touched only by the sender, which is serial.
  private Map<String, Integer> warmSent = Map.of();
  private volatile boolean registerSent;
  // Set by drain(). Assignments that arrive afterwards were sent before the scheduler read Drain;
  // they run like any other (see drain()).
  private volatile boolean draining;
  private final AtomicInteger lateAssignments = new AtomicInteger();
  // Set when DrainAccepted arrives: no assignment follows it.
  private volatile boolean drainAccepted;
  // Whether Drain went out; it goes once, after Register (by drain() or by start()).
  private final AtomicBoolean drainSent = new AtomicBoolean();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  private volatile SerialObserver<WorkerMessage> out;
  private volatile ScheduledFuture<?> registrationTimeout;
  private volatile ScheduledFuture<?> keepAlive;
  private volatile ScheduledFuture<?> statusTask;
  // Whether a failing status supplier was logged already; touched only by the timer thread.
  private boolean statusFailureLogged;
  private volatile long lastHeardMillis;
  private volatile boolean registered;
  private volatile String abortReason;

  AgentConnection(
      Owner owner,
      Register register,
      Supplier<Map<String, Integer>> warmProcesses,
      Supplier<WorkerStatus> status,
      Duration statusInterval,
      ActionRunner runner,
      Executor slots,
      ScheduledExecutorService timer,
      Clock clock,
      Collection<HeldAction> held) {
    this.owner = owner;
    this.offered = new ConcurrentHashMap<>();
    Register.Builder withHeld = register.toBuilder();
    for (HeldAction action : held) {
      offered.put(action.id, action);
      withHeld.addRunning(action.id);
    }
    this.register = withHeld.build();
    this.warmProcesses = warmProcesses;
    this.status = status;
    this.statusInterval = statusInterval;
    this.runner = runner;
    this.slots = slots;
    this.timer = timer;
    this.clock = clock;
  }

  /** Opens the stream and sends Register. */
  void start(WorkerApiGrpc.WorkerApiStub stub) {
    if (ended.get()) {
      return; // shut down before it started
    }
    lastHeardMillis = clock.millis();
    try {
      registrationTimeout =
          timer.schedule(
              () -> {
                if (!registered) {
                  abort("the scheduler did not answer Register within " + REGISTRATION_TIMEOUT);
                }
              },
              REGISTRATION_TIMEOUT.toMillis(),
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      end(null, false); // the agent is closing
      return;
    }
    stub.connect(this);
    out.onNext(WorkerMessage.newBuilder().setRegister(register).build());
    // Right behind Register, so the scheduler knows this worker's warm processes before it frees a
    // slot; the scheduler forgot them when the previous stream ended.
    registerSent = true;
    warmProcessesChanged();
    scheduleStatus();
    sendDrain(); // drain() ran before Register went out
    if (ended.get()) {
      out.onCompleted(); // shutdown() ran before the stream existed
    }
  }

  /**
   * Queues a WarmProcesses message with the agent's state at the time it is sent, unless one is
   * queued already (it will carry the newest state) or Register has not gone out yet (then {@link
   * #start} sends it). Messages this stream sends later, such as the ActionFinished of the action
   * whose end changed the state, go out after it.
   */
  void warmProcessesChanged() {
    warmReport.changed();
  }

  /** The WarmProcesses message for the current state, or null if the scheduler has it already. */
  private WorkerMessage warmProcessesMessage() {
    Map<String, Integer> idle = warmProcesses.get();
    if (idle.equals(warmSent)) {
      return null;
    }
    warmSent = idle;
    WarmProcesses.Builder warm = WarmProcesses.newBuilder();
    idle.forEach(
        (key, count) -> warm.addKeys(WarmKey.newBuilder().setClientKey(key).setIdle(count)));
    return WorkerMessage.newBuilder().setWarmProcesses(warm).build();
  }

  /**
   * Sends the status now, behind Register (the server reads it once it has registered the worker),
   * and then every status interval until the stream ends.
   */
  private void scheduleStatus() {
    if (status == null) {
      return;
    }
    try {
      statusTask =
          timer.scheduleAtFixedRate(
              this::sendStatus, 0, statusInterval.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return; // the agent is closing
    }
    if (ended.get()) {
      statusTask.cancel(false);
    }
  }

  /** Queues a status report; reports queued before it was sent collapse into one. */
  private void statusChanged() {
    if (status != null) {
      statusReport.changed();
    }
  }

  private WorkerMessage statusMessage() {
    try {
      return WorkerMessage.newBuilder().setStatus(status.get()).build();
    } catch (RuntimeException e) {
      return null; // the periodic report logs the failure
    }
  }

  private void sendStatus() {
    WorkerStatus message;
    try {
      message = status.get();
    } catch (RuntimeException e) {
      // A throwing task would never run again; skip this report and try at the next tick.
      if (!statusFailureLogged) {
        statusFailureLogged = true;
        log.warn("Reading this worker's status for the scheduler failed; will keep trying", e);
      }
      return;
    }
    out.onNext(WorkerMessage.newBuilder().setStatus(message).build());
  }

  /** Whether the scheduler accepted this stream's registration and the stream is still open. */
  boolean isRegistered() {
    return registered && !ended.get();
  }

  /** Whether the scheduler accepted this stream's registration at some point. */
  boolean wasRegistered() {
    return registered;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WorkerMessage> requestStream) {
    out = SerialObserver.of(requestStream);
  }

  @Override
  public void onNext(SchedulerMessage message) {
    lastHeardMillis = clock.millis();
    if (ended.get()) {
      return;
    }
    switch (message.getKindCase()) {
      case REGISTERED -> registered(message.getRegistered());
      case ASSIGN -> assign(message.getAssign());
      case CANCEL -> {
        HeldAction target = running.get(message.getCancel().getAssignmentId());
        if (target != null) {
          target.cancellation.cancel();
        }
      }
      case DRAIN_ACCEPTED -> {
        drainAccepted = true;
        checkDrained();
      }
      case KEEP_ALIVE, KIND_NOT_SET -> {}
    }
  }

  @Override
  public void onError(Throwable t) {
    Status status = Status.fromThrowable(t);
    String reason = abortReason;
    if (reason != null) {
      status = Status.UNAVAILABLE.withDescription(reason);
    }
    end(status, true);
  }

  @Override
  public void onCompleted() {
    end(Status.UNAVAILABLE.withDescription("the scheduler ended the stream"), true);
  }

  /**
   * Tells the scheduler with a Drain message that this worker is stopping, so that it assigns this
   * worker nothing new; the future completes once the scheduler has answered with DrainAccepted and
   * every action this connection holds has finished and its answer is queued on the stream (or once
   * the stream has ended).
   *
   * <p>Assignments the scheduler sent before it read Drain still arrive afterwards. They run like
   * any other: draining means finishing what this worker holds. Holding them back instead would
   * leave them assigned here until the stream ends, and the scheduler counts an assignment whose
   * worker left as lost, one attempt of the action's retries spent for nothing; handing them back
   * would need a way to tell the scheduler that they never started, which a worker cannot prove.
   * Waiting for DrainAccepted, which the scheduler sends after the last assignment it made before
   * Drain, closes the other half of the race: without it, this worker could end the stream while an
   * assignment is still on its way. A server too old to send DrainAccepted leaves the future
   * pending until the stream ends, so the agent waits for its drain timeout.
   */
  CompletableFuture<Void> drain() {
    draining = true;
    sendDrain();
    checkDrained();
    return drained;
  }

  /**
   * Tells the scheduler that this worker drains, so that it assigns nothing more here, once and
   * only after Register (the first message must be Register). Assignments it sent before it read
   * Drain run as {@link #drain()} says.
   */
  private void sendDrain() {
    if (draining && registerSent && !ended.get() && drainSent.compareAndSet(false, true)) {
      out.onNext(DRAIN);
    }
  }

  /** How many assignments arrived after {@link #drain()}: sent before the scheduler read Drain. */
  int lateAssignments() {
    return lateAssignments.get();
  }

  // Each caller changes one of the states read here before calling, so whichever change comes
  // last sees the others.
  private void checkDrained() {
    if (draining && ((drainAccepted && running.isEmpty()) || ended.get())) {
      drained.complete(null);
    }
  }

  /**
   * Ends this connection from the agent's side: half-closes the stream, so the scheduler re-queues
   * what this worker was running, and cancels those actions here. The owner is not told.
   */
  void shutdown() {
    if (end(null, false)) {
      SerialObserver<WorkerMessage> sender = out;
      if (sender != null) {
        sender.onCompleted();
      }
    }
  }

  /**
   * Cancels the call, as when the scheduler has fallen silent; the owner is told. The cancellation
   * goes through the serialized sender, since the call is not thread-safe.
   */
  void abort(String reason) {
    abortReason = reason;
    SerialObserver<WorkerMessage> sender = out;
    if (sender != null) {
      sender.onError(Status.CANCELLED.withDescription(reason).asRuntimeException());
    }
  }

  private void registered(Registered answer) {
    if (registered) {
      return;
    }
    com.google.protobuf.Duration proto = answer.getKeepAliveInterval();
    if (answer.hasReattachGrace()) {
      reattachGraceMillis = Math.max(0, ProtoTime.toDuration(answer.getReattachGrace()).toMillis());
    }
    adoptOffered(Set.copyOf(answer.getAdoptedList()));
    long intervalMillis = proto.getSeconds() * 1000 + proto.getNanos() / 1_000_000;
    if (intervalMillis <= 0) {
      intervalMillis = 5000; // a scheduler that names no interval gets the default one
    }
    registered = true;
    registrationTimeout.cancel(false);
    long interval = intervalMillis;
    try {
      keepAlive =
          timer.scheduleAtFixedRate(
              () -> tick(interval), interval, interval, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      shutdown();
      return;
    }
    if (ended.get()) {
      keepAlive.cancel(false); // the agent shut this connection down meanwhile
      return;
    }
    owner.registered(this);
  }

  /**
   * Takes over the actions of an earlier stream that the server adopted, sending the answers of
   * those that ended meanwhile, and cancels the others: the service queued them again.
   */
  private void adoptOffered(Set<String> adopted) {
    int cancelled = 0;
    int count = offered.size();
    for (String id : List.copyOf(offered.keySet())) {
      // Removed one at a time, so that each is either adopted here or handed back by end().
      HeldAction action = offered.remove(id);
      if (action == null) {
        continue;
      }
      if (adopted.contains(action.id)) {
        running.put(action.id, action);
        ActionFinished kept = action.adopt(this);
        if (kept != null) {
          send(action, kept);
        }
      } else {
        action.cancellation.cancel();
        cancelled++;
      }
    }
    if (count > 0) {
      log.info(
          "Re-attached with {} action(s) still running: {} adopted by the server, {} cancelled"
              + " (queued again by the service)",
          count,
          count - cancelled,
          cancelled);
    }
  }

  private void tick(long intervalMillis) {
    long silent = clock.millis() - lastHeardMillis;
    if (silent >= MISSED_KEEP_ALIVES * intervalMillis) {
      abort(
          "no message from the scheduler for "
              + silent
              + " ms ("
              + MISSED_KEEP_ALIVES
              + " keep-alive intervals of "
              + intervalMillis
              + " ms)");
      return;
    }
    out.onNext(KEEP_ALIVE);
  }

  private void assign(AssignAction assign) {
    String id = assign.getAssignmentId();
    HeldAction run = new HeldAction(id, this);
    if (running.putIfAbsent(id, run) != null) {
      log.warn("The scheduler assigned '{}' twice; ignoring the second", id);
      return;
    }
    // Not held back: see drain(). It is in running before DrainAccepted can be read (both come on
    // this serial inbound path), so the drain waits for its answer.
    if (draining) {
      lateAssignments.incrementAndGet();
    }
    try {
      slots.execute(() -> run(assign, run));
    } catch (RejectedExecutionException e) {
      running.remove(id); // the agent is closing; the stream's end re-queues the action
    }
  }

  private void run(AssignAction assign, HeldAction run) {
    String id = assign.getAssignmentId();
    ActionFinished.Builder finished = ActionFinished.newBuilder().setAssignmentId(id);
    try {
      ActionOutcome outcome = runner.run(task(assign), run.cancellation);
      finished
          .setStatus(Rpc.rpcStatus(outcome.code(), outcome.message()))
          .setResult(outcome.result());
    } catch (HearthException e) {
      finished.setStatus(Rpc.rpcStatus(e.code(), e.getMessage()));
    } catch (RuntimeException e) {
      log.warn("Running action {} failed unexpectedly", assign.getActionDigest().getHash(), e);
      finished.setStatus(
          Rpc.rpcStatus(StatusCode.INTERNAL, "the worker failed to run the action: " + e));
    }
    ActionFinished answer = finished.build();
    // The stream that answers for it now: this one, a later one that adopted it, or none (the
    // answer waits in the action for the stream that adopts it).
    AgentConnection home = run.finished(answer);
    if (home != null) {
      home.send(run, answer);
    }
  }

  /**
   * Sends an action's answer on this stream, or, if the stream ended meanwhile and its server keeps
   * the action, leaves it in the action for the next stream.
   */
  private void send(HeldAction run, ActionFinished answer) {
    boolean kept = false;
    try {
      if (run.cancellation.isCancelled() && ended.get() && reattachGraceMillis == 0) {
        return; // cancelled because the stream ended; the scheduler has re-queued the action
      }
      // The pool's counts as of this action's end reach the server before its answer, so that
      // metrics read after a build has ended count every one of its actions.
      statusChanged();
      if (!out.onNext(WorkerMessage.newBuilder().setFinished(answer).build())) {
        if (reattachGraceMillis > 0) {
          AgentConnection other = run.sendFailed(this, answer);
          if (other != null) {
            other.send(run, answer);
          } else {
            // Stays in running, so that end() hands it to the agent, answer and all.
            kept = true;
          }
        } else {
          log.debug("Dropping the answer for assignment {}: its stream has ended", run.id);
        }
      }
    } finally {
      if (!kept) {
        // Only once the answer is queued, so that a drain never ends the stream before it.
        running.remove(run.id, run);
        checkDrained();
      }
    }
  }

  private static ExecutionTask task(AssignAction assign) {
    Duration duration = ProtoTime.toDuration(assign.getTimeout());
    if (duration.isNegative() || duration.isZero()) {
      throw HearthException.invalidArgument(
          "the scheduler assigned action %s with timeout %s; it must be positive",
          assign.getActionDigest().getHash(), duration);
    }
    Digest digest;
    try {
      digest = Digest.fromProto(assign.getActionDigest());
    } catch (HearthException e) {
      throw HearthException.invalidArgument("AssignAction.action_digest: %s", e.getMessage());
    }
    return new ExecutionTask(
        assign.getInstanceName(), digest, assign.getAction(), assign.getCommand(), duration);
  }

  /**
   * Ends the connection once: stops the timer task, cancels what is running, and tells the owner if
   * {@code tell}.
   *
   * @return whether this call ended it
   */
  private boolean end(Status status, boolean tell) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    for (ScheduledFuture<?> task : Arrays.asList(registrationTimeout, keepAlive, statusTask)) {
      if (task != null) {
        task.cancel(false);
      }
    }
    long grace = reattachGraceMillis;
    if (tell && grace > 0) {
      // The server keeps them for a re-attachment: they run on, and the next stream offers them.
      long until = clock.millis() + grace;
      for (HeldAction run : running.values()) {
        run.orphan(this, until);
      }
      owner.keep(List.copyOf(running.values()));
      running.clear();
    } else {
      for (HeldAction run : running.values()) {
        run.cancellation.cancel();
      }
    }
    List<HeldAction> notAdopted = new ArrayList<>();
    for (String id : List.copyOf(offered.keySet())) {
      HeldAction action = offered.remove(id);
      if (action != null) {
        notAdopted.add(action);
      }
    }
    if (!notAdopted.isEmpty()) {
      // Never registered: they keep the deadline of the stream they came from.
      owner.keep(notAdopted);
    }
    drained.complete(null);
    if (tell) {
      owner.ended(this, status);
    }
    return true;
  }
}
