package build.hearth.grpc.workerapi;

import static build.hearth.grpc.common.WorkerApiProtocol.MISSED_KEEP_ALIVES;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.ProtoTime;
import build.hearth.core.remote.WorkerLimits;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import build.hearth.grpc.common.SerialObserver;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.CancelAction;
import build.hearth.proto.workerapi.DrainAccepted;
import build.hearth.proto.workerapi.KeepAlive;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.Registered;
import build.hearth.proto.workerapi.SandboxRefusal;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WarmKey;
import build.hearth.proto.workerapi.WarmProcesses;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.proto.workerapi.WorkerStatus;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.AssignmentListener;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.RemoteWorker;
import build.hearth.spi.worker.WorkAssignment;
import build.hearth.spi.worker.WorkerSpec;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's Connect stream: connects the worker through the service's {@link
 * build.hearth.spi.worker.WorkerHub}, forwards the scheduler's assignments and cancellations, turns
 * the worker's ActionFinished messages into answers, passes its WarmProcesses and WorkerStatus
 * reports to its {@link RemoteWorker}, marks it draining when it says it is stopping, and
 * disconnects the worker when the stream ends or the worker falls silent for {@code
 * MISSED_KEEP_ALIVES} ticks of the keep-alive timer in a row.
 *
 * <p>Three kinds of thread meet here: gRPC delivers the worker's messages one at a time; the
 * scheduler calls the listener on its callback executor; the keep-alive task runs on the service's
 * timer. Outbound messages go through a {@link SerialObserver}; the rest of the state is in
 * concurrent maps, volatile fields and one {@link AtomicBoolean} that makes {@link #end} happen
 * once.
 */
final class WorkerStream implements StreamObserver<WorkerMessage> {
  /**
   * What a worker that does not say how large a message it accepts (one older than {@code
   * Register.max_message_bytes}) accepts: the 40 MiB its agent had as a fixed bound.
   */
  static final long OLDER_WORKER_MESSAGE_BYTES = 40L << 20;

  private static final Logger log = LoggerFactory.getLogger(WorkerStream.class);

  /** How many ignored answers a stream logs; the rest are only counted. */
  private static final int MAX_LOGGED_STRAY_ANSWERS = 5;

  private static final SchedulerMessage KEEP_ALIVE =
      SchedulerMessage.newBuilder().setKeepAlive(KeepAlive.getDefaultInstance()).build();

  private static final SchedulerMessage DRAIN_ACCEPTED =
      SchedulerMessage.newBuilder().setDrainAccepted(DrainAccepted.getDefaultInstance()).build();

  private final WorkerApiService service;
  private final SerialObserver<SchedulerMessage> out;
  private final AtomicBoolean ended = new AtomicBoolean();
  private final Map<String, WorkAssignment> byId = new ConcurrentHashMap<>();
  private final Map<WorkAssignment, String> idOf = new ConcurrentHashMap<>();

  private volatile String name; // set by Register; null before
  private volatile RemoteWorker session;
  // The largest assignment this worker is sent: the smaller of the hub's bound and what the worker
  // accepts; set by Register.
  private volatile int maxAssignmentBytes;
  private volatile long workerAcceptsBytes;
  private volatile ScheduledFuture<?> keepAlive;
  // Whether the worker said anything since the last keep-alive tick, and how many ticks in a row
  // found it silent. Counting the service's timer ticks, rather than reading a clock, keeps a
  // step of the wall clock (NTP, a suspended VM's catch-up) from disconnecting every worker.
  private volatile boolean heardSinceTick = true;
  private int silentTicks; // touched only by the keep-alive task
  private boolean registered; // touched only by gRPC's serialized inbound callbacks
  private volatile long strayAnswers; // written only by gRPC's serialized inbound callbacks

  WorkerStream(WorkerApiService service, ServerCallStreamObserver<SchedulerMessage> call) {
    this.service = service;
    this.out = SerialObserver.held(call);
  }

  @Override
  public void onNext(WorkerMessage message) {
    heardSinceTick = true;
    if (ended.get()) {
      return;
    }
    try {
      switch (message.getKindCase()) {
        case REGISTER -> register(message.getRegister());
        case FINISHED -> {
          requireRegistered("ActionFinished");
          finished(message.getFinished());
        }
        case KEEP_ALIVE -> requireRegistered("KeepAlive");
        case WARM_PROCESSES -> {
          requireRegistered("WarmProcesses");
          warmProcesses(message.getWarmProcesses());
        }
        case STATUS -> {
          requireRegistered("WorkerStatus");
          status(message.getStatus());
        }
        case DRAIN -> {
          requireRegistered("Drain");
          drain();
        }
        case KIND_NOT_SET -> {
          // A message kind newer than this server; the worker is alive, which is what counts.
          requireRegistered("an empty WorkerMessage");
        }
      }
    } catch (RuntimeException e) {
      Status status = Rpc.toStatus(e);
      if (registered) {
        end(status, e.getMessage());
      } else {
        refuse(status);
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    Status status = Status.fromThrowable(t);
    end(null, "the stream broke: " + status.getCode() + describe(status));
  }

  @Override
  public void onCompleted() {
    end(Status.OK, "the worker disconnected");
  }

  /** gRPC's cancellation callback: the worker cancelled or its connection is gone. */
  void cancelled() {
    end(null, "the worker's call was cancelled or its connection lost");
  }

  /** Ends a stream that never registered. */
  void refuse(Status status) {
    if (ended.compareAndSet(false, true)) {
      log.info(
          "Refused a worker{}: {}",
          name == null ? "" : " '" + name + "'",
          status.getCode() + describe(status));
      out.onError(status.asRuntimeException());
      out.release(null);
    }
  }

  private void requireRegistered(String what) {
    if (!registered) {
      throw HearthException.invalidArgument(
          "the first message on a worker stream must be Register, not %s", what);
    }
  }

  private void register(Register register) {
    if (registered) {
      throw HearthException.invalidArgument(
          "worker '%s' sent Register twice on one stream; open a new stream to re-register", name);
    }
    WorkerSpec spec = spec(register);
    name = spec.name();
    Set<String> running = new LinkedHashSet<>(register.getRunningList());
    WorkerLimits.checkRunning(spec, running);
    if (register.getMaxMessageBytes() < 0) {
      throw HearthException.invalidArgument(
          "worker '%s' registered with max_message_bytes %d; it must be positive, or 0 for the"
              + " 40 MiB of older workers",
          spec.name(), register.getMaxMessageBytes());
    }
    workerAcceptsBytes =
        register.getMaxMessageBytes() == 0
            ? OLDER_WORKER_MESSAGE_BYTES
            : register.getMaxMessageBytes();
    int serverBound = service.hub().maxAssignmentBytes();
    maxAssignmentBytes = (int) Math.min(serverBound, workerAcceptsBytes);
    if (workerAcceptsBytes < serverBound) {
      log.warn(
          "Worker '{}' accepts messages of at most {} bytes (its maxMessageSize), less than the"
              + " {} of this server's workerApi.maxAssignmentSize: it is sent no assignment over {}"
              + " bytes; raise its maxMessageSize to at least the server's bound",
          spec.name(),
          workerAcceptsBytes,
          serverBound,
          workerAcceptsBytes);
    }
    if (!service.claim(spec.name(), this)) {
      throw new HearthException(
          StatusCode.ALREADY_EXISTS,
          "a worker named '"
              + spec.name()
              + "' is already connected; give each worker a unique name (if this worker is that"
              + " one reconnecting, it is accepted once the old connection is found dead)");
    }
    try {
      session =
          running.isEmpty()
              ? service.hub().connect(spec, new Listener())
              : service.hub().connect(spec, running, new Listener());
    } catch (RuntimeException e) {
      service.release(spec.name(), this);
      throw e instanceof HearthException h
          ? h
          : HearthException.internal("connecting worker '" + spec.name() + "' failed: " + e, e);
    }
    registered = true;
    // Before Registered goes out: the worker may answer an adopted action right after it.
    List<String> adopted = new ArrayList<>();
    for (WorkAssignment assignment : session.adopted()) {
      String id = assignment.id().orElse(assignment.name());
      byId.put(id, assignment);
      idOf.put(assignment, id);
      adopted.add(id);
    }
    Optional<Duration> grace = service.hub().reattachGrace();
    Duration interval = service.keepAliveInterval();
    try {
      keepAlive =
          service
              .timer()
              .scheduleAtFixedRate(
                  this::keepAlive, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // The service closed while this worker registered.
      session.disconnect();
      service.release(spec.name(), this);
      throw HearthException.unavailable("the server is shutting down", e);
    }
    if (register.hasSandbox()) {
      try {
        session.reportSandbox(register.getSandbox());
      } catch (RuntimeException e) {
        // Only the admin endpoint reads it: no reason to refuse a worker that runs actions fine.
        log.warn(
            "Ignoring the sandbox report of worker '{}' that cannot be read: {}",
            spec.name(),
            e.getMessage());
      }
    }
    log.info(
        "Worker '{}' connected with {} slot{} and properties {}; sandbox: {}{}",
        spec.name(),
        spec.slots(),
        spec.slots() == 1 ? "" : "s",
        spec.properties(),
        register.hasSandbox() ? describe(register.getSandbox()) : "not reported",
        running.isEmpty()
            ? ""
            : "; re-attached still running "
                + running.size()
                + " action(s), "
                + adopted.size()
                + " adopted");
    Registered.Builder answer =
        Registered.newBuilder().setKeepAliveInterval(ProtoTime.of(interval)).addAllAdopted(adopted);
    grace.ifPresent(g -> answer.setReattachGrace(ProtoTime.of(g)));
    out.release(SchedulerMessage.newBuilder().setRegistered(answer).build());
    if (ended.get()) {
      // The service closed while the hub was connecting, before end() could see the session.
      keepAlive.cancel(false);
      session.disconnect();
      service.release(spec.name(), this);
    }
  }

  private static WorkerSpec spec(Register register) {
    if (register.getName().isBlank()) {
      throw HearthException.invalidArgument(
          "Register.name is empty; every worker needs a name, unique among the workers of this"
              + " server");
    }
    // Before the name goes into any message or log line, and before the properties are copied.
    WorkerLimits.checkName(register.getName());
    WorkerLimits.checkPropertyCount(register.getName(), register.getPropertiesCount());
    if (register.getSlots() < 1) {
      throw HearthException.invalidArgument(
          "worker '%s' registered with %d slots; it needs at least 1",
          register.getName(), register.getSlots());
    }
    Map<String, Set<String>> properties = new LinkedHashMap<>();
    for (Platform.Property property : register.getPropertiesList()) {
      if (property.getName().isEmpty()) {
        throw HearthException.invalidArgument(
            "worker '%s' offers a platform property with no name", register.getName());
      }
      properties
          .computeIfAbsent(property.getName(), unused -> new LinkedHashSet<>())
          .add(property.getValue());
    }
    WorkerSpec spec;
    try {
      spec = new WorkerSpec(register.getName(), properties, register.getSlots());
    } catch (IllegalArgumentException e) {
      throw HearthException.invalidArgument("%s", e.getMessage());
    }
    WorkerLimits.check(spec);
    return spec;
  }

  /**
   * A worker's answer. It counts only for an assignment this stream was given (or adopted at
   * registration) and has not seen answered: assignment ids are looked up in this stream's own map
   * (random per stream, or a shared scheduler's execution ids), so an answer naming another
   * worker's assignment, one already answered, or one of an earlier stream of the same worker that
   * was not adopted finds nothing here and is dropped, and nothing of it reaches the scheduler or
   * the action cache. The stream stays open, since a worker that reconnected may honestly answer
   * what its old stream was given. An answer to an assignment the scheduler took back (cancelled,
   * or held past its deadline) is passed on: it frees the worker's slot, and the scheduler discards
   * it.
   */
  private void finished(ActionFinished finished) {
    WorkAssignment assignment = byId.remove(finished.getAssignmentId());
    if (assignment == null) {
      strayAnswers++;
      service.countStrayAnswer();
      // At most a few lines per stream: a worker must not be able to flood the log.
      if (strayAnswers <= MAX_LOGGED_STRAY_ANSWERS) {
        log.info(
            "Worker '{}' answered assignment '{}', which it does not hold (never given to it on"
                + " this stream, or already answered); ignoring the answer{}",
            name,
            Instances.abbreviate(finished.getAssignmentId()),
            strayAnswers == MAX_LOGGED_STRAY_ANSWERS
                ? "; further such answers of this stream are counted, not logged"
                : "");
      }
      return;
    }
    idOf.remove(assignment);
    StatusCode code = StatusCode.forValue(finished.getStatus().getCode());
    String message = finished.getStatus().getMessage();
    if (code == StatusCode.OK) {
      // The message of a command that ran (such as that its memory limit killed it) is kept.
      assignment.complete(new ActionOutcome(finished.getResult(), code, message));
    } else if ((code == StatusCode.DEADLINE_EXCEEDED || code == StatusCode.CANCELLED)
        && finished.hasResult()) {
      assignment.complete(new ActionOutcome(finished.getResult(), code, message));
    } else {
      assignment.fail(
          new HearthException(
              code,
              message.isEmpty()
                  ? "worker '"
                      + name
                      + "' could not run action '"
                      + assignment.name()
                      + "' ("
                      + code
                      + ", no message)"
                  : message));
    }
  }

  private void warmProcesses(WarmProcesses warm) {
    Map<String, Integer> idle = new HashMap<>();
    for (WarmKey key : warm.getKeysList()) {
      if (key.getIdle() > 0) {
        idle.merge(
            key.getClientKey(),
            key.getIdle(),
            (a, b) -> (int) Math.min(Integer.MAX_VALUE, (long) a + b));
      }
    }
    if (!session.reportWarmProcesses(idle)) {
      // The session ended between this message's arrival and now; the report is moot.
      log.debug("Dropped the warm processes of worker '{}': it is not connected", name);
    }
  }

  private void status(WorkerStatus status) {
    try {
      session.reportStatus(
          status.hasPersistentWorkers()
              ? Optional.of(status.getPersistentWorkers())
              : Optional.empty());
    } catch (RuntimeException e) {
      // A report this server cannot read is no reason to drop a worker that runs actions fine.
      log.warn(
          "Ignoring a status report of worker '{}' that cannot be read: {}", name, e.getMessage());
    }
  }

  /** The worker is stopping: the scheduler gives it nothing new; its running actions go on. */
  private void drain() {
    session.drain();
    log.info(
        "Worker '{}' is draining: it gets no new actions and finishes the {} it runs",
        name,
        byId.size());
  }

  private void keepAlive() {
    if (heardSinceTick) {
      heardSinceTick = false;
      silentTicks = 0;
    } else {
      silentTicks++;
    }
    if (silentTicks >= MISSED_KEEP_ALIVES) {
      long interval = service.keepAliveInterval().toMillis();
      String why =
          "it sent nothing for "
              + MISSED_KEEP_ALIVES
              + " keep-alive intervals of "
              + interval
              + " ms (at least "
              + MISSED_KEEP_ALIVES * interval
              + " ms)";
      end(
          Status.UNAVAILABLE.withDescription("worker '" + name + "' was disconnected: " + why),
          why);
      return;
    }
    out.onNext(KEEP_ALIVE);
  }

  /**
   * Ends the stream once: disconnects the worker (the scheduler re-queues what it was running) and,
   * if {@code status} is not null, closes the call with it.
   */
  void end(Status status, String reason) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    ScheduledFuture<?> task = keepAlive;
    if (task != null) {
      task.cancel(false);
    }
    RemoteWorker current = session;
    if (current != null) {
      // Before the name is released: a worker registering under it next is listed and scheduled
      // on its own, with nothing of this one left.
      current.disconnect();
    }
    if (name != null) {
      service.release(name, this);
    }
    if (current != null) {
      log.info(
          "Worker '{}' disconnected: {}; its {} running action{} {}",
          current.name(),
          reason,
          byId.size(),
          byId.size() == 1 ? "" : "s",
          service.hub().reattachGrace().isPresent()
              ? "stay its own for its lease, for it to re-attach through any server"
              : "go back to the queue");
    } else if (name != null) {
      log.info("Worker '{}' left before it was registered: {}", name, reason);
    }
    if (strayAnswers > MAX_LOGGED_STRAY_ANSWERS) {
      log.info(
          "Worker '{}' sent {} answers for assignments it did not hold; all were ignored",
          name,
          strayAnswers);
    }
    byId.clear();
    idOf.clear();
    if (status == null) {
      return;
    }
    if (status.isOk()) {
      out.onCompleted();
    } else {
      out.onError(status.asRuntimeException());
    }
    // Unless Registered has gone out, the sender is still held; releasing again is harmless.
    out.release(null);
  }

  /** One line for the log: the mode, the parts in force and those refused. */
  private static String describe(SandboxReport sandbox) {
    String refused =
        sandbox.getRefusedList().stream()
            .map(SandboxRefusal::getPart)
            .collect(Collectors.joining(", "));
    return sandbox.getMode()
        + ", in force: "
        + (sandbox.getAvailableCount() == 0
            ? "none"
            : String.join(", ", sandbox.getAvailableList()))
        + (refused.isEmpty() ? "" : ", refused: " + refused)
        + ", cgroups "
        + sandbox.getCgroups()
        + ", actions run as "
        + sandbox.getActionUser();
  }

  private static String describe(Status status) {
    return status.getDescription() == null ? "" : " (" + status.getDescription() + ")";
  }

  /** The scheduler's side of the stream. */
  private final class Listener implements AssignmentListener {

    @Override
    public void assign(WorkAssignment assignment) {
      if (ended.get()) {
        // Throwing makes the scheduler disconnect this worker and re-queue the action, if the
        // stream's end has not done so already.
        throw HearthException.unavailable("worker '" + name + "' is disconnecting", null);
      }
      String id = assignment.id().orElseGet(() -> UUID.randomUUID().toString());
      byId.put(id, assignment);
      idOf.put(assignment, id);
      ExecutionTask task = assignment.task();
      AssignAction assign =
          AssignAction.newBuilder()
              .setAssignmentId(id)
              .setInstanceName(task.instanceName())
              .setActionDigest(task.actionDigest().toProto())
              .setAction(task.action())
              .setCommand(task.command())
              .setTimeout(ProtoTime.of(task.timeout()))
              .build();
      int size = assign.getSerializedSize();
      int bound = maxAssignmentBytes;
      if (size > bound) {
        // Sent, it would break the worker's stream and every other action on it.
        byId.remove(id);
        idOf.remove(assignment);
        assignment.fail(
            HearthException.invalidArgument(
                "the assignment of action %s would be %d bytes, more than the %d worker '%s' can"
                    + " be sent (the server's workerApi.maxAssignmentSize is %d, the worker's"
                    + " maxMessageSize %d); make its Action and Command smaller",
                task.actionDigest(),
                size,
                bound,
                name,
                service.hub().maxAssignmentBytes(),
                workerAcceptsBytes));
        return;
      }
      if (!out.onNext(SchedulerMessage.newBuilder().setAssign(assign).build())) {
        byId.remove(id);
        idOf.remove(assignment);
        throw HearthException.unavailable("worker '" + name + "' is disconnecting", null);
      }
    }

    /**
     * Tells the worker that its Drain took effect. The scheduler calls this after every assignment
     * it made before, and this stream sends in call order, so DrainAccepted follows the last
     * AssignAction the worker will get.
     */
    @Override
    public void drainAccepted() {
      out.onNext(DRAIN_ACCEPTED);
    }

    @Override
    public void cancel(WorkAssignment assignment) {
      String id = idOf.get(assignment);
      if (id == null) {
        return; // already answered
      }
      out.onNext(
          SchedulerMessage.newBuilder()
              .setCancel(CancelAction.newBuilder().setAssignmentId(id))
              .build());
    }
  }
}
