package build.hearth.agent;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.PoolStats;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.internal.Threads;
import build.hearth.core.remote.PoolStatsMessages;
import build.hearth.core.remote.SandboxReports;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.grpc.common.BearerToken;
import build.hearth.grpc.tls.ClientTls;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.SandboxReport;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerStatus;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker in its own process, connected to a Hearth scheduler over the worker API: what {@code
 * hearth worker} runs. It registers its name, platform properties and slots, runs each action it is
 * assigned on one of its slot threads with the {@link ActionRunner} it was built with, and reports
 * each outcome. Inputs and outputs go through the CAS of the action's instance on the same server.
 *
 * <pre>{@code
 * WorkerAgent agent = WorkerAgent.newBuilder()
 *     .endpoint("grpc://scheduler.example:50052")
 *     .name("linux-builder-7")
 *     .slots(8)
 *     .properties(Map.of("OSFamily", List.of("Linux"), "cpu_count", List.of("8")))
 *     .runner(casOfInstance -> new MyRunner(casOfInstance))
 *     .build();
 * agent.start();
 * // ... until the process is told to stop:
 * agent.close();
 * }</pre>
 *
 * <h2>Connection</h2>
 *
 * {@link #start()} returns at once; the agent then connects in the background and stays connected:
 * whenever its stream ends (the scheduler restarted, the network failed, nothing was heard for
 * three keep-alive intervals) it reconnects after a back-off that starts at 100 ms and doubles up
 * to 10 s, with jitter, and starts over once registered. Actions that were running when a stream
 * ended are cancelled, since the scheduler has already queued them again. Attempts are logged when
 * the state changes (connected, lost, failing for a new reason), not once per attempt. An action
 * assigned while every slot thread is still stopping a cancelled action waits for a free thread.
 *
 * <h2>Outcomes</h2>
 *
 * Each assignment gets exactly one answer: an {@link build.hearth.spi.worker.ActionOutcome} the
 * runner returns is reported with its code and result; a {@link build.hearth.api.HearthException}
 * it throws is reported with its code and message (the action then fails with that error, and is
 * not retried); anything else it throws is reported as INTERNAL.
 *
 * <h2>Status</h2>
 *
 * With a {@linkplain Builder#statusSupplier status supplier}, the agent sends the statistics of its
 * persistent-worker pool right after each registration and then every {@linkplain
 * Builder#statusInterval status interval}, for the server's metrics and admin endpoint.
 *
 * <p>Thread-safe. {@link #start()} creates non-daemon threads, which keep the JVM running until
 * {@link #close()}.
 */
public final class WorkerAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerAgent.class);

  /**
   * The largest message the agent accepts by default: room for the largest assignment a server
   * sends by default (an Action and a Command of up to 16 MiB each in one message of at most 33
   * MiB, its {@code workerApi.maxAssignmentSize}) and for GetTree pages. The agent tells the server
   * its bound at registration, and the server sends it no larger assignment: a message over the
   * bound would break the whole stream, and every action on it.
   */
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 40 << 20;

  /** The smallest bound {@link Builder#maxInboundMessageBytes} takes: gRPC's default of 4 MiB. */
  public static final int MIN_INBOUND_MESSAGE_BYTES = 4 << 20;

  private final List<Endpoint> endpoints;
  private final String name;
  private final int slots;
  private final int maxInboundMessageBytes;
  private final Function<Function<String, ContentAddressableStorage>, ActionRunner> runnerFactory;
  private final Supplier<? extends Map<String, ? extends Collection<String>>> runnerProperties;
  private final Supplier<SandboxCapabilities> sandboxSupplier; // null: report no sandbox
  private final Backoff backoff;
  private final Duration maxBackoff;
  private final Clock clock;
  private final Duration casTimeout;
  private final Supplier<Optional<PoolStats>> statusSupplier; // null: send no status
  private final Duration statusInterval;
  private final ClientTls tls; // null: the JDK's trusted authorities, no client certificate
  private final BearerToken token; // null: no token
  private final Events events = new Events();
  private final Map<String, RemoteCas> casByInstance = new ConcurrentHashMap<>();
  // The latest reportWarmProcesses state, sorted by key, which every connection sends from.
  private final AtomicReference<Map<String, Integer>> warmProcesses =
      new AtomicReference<>(Map.of());

  private final Object lock = new Object();
  private boolean started; // guarded by lock
  private boolean closed; // guarded by lock
  private boolean draining; // guarded by lock
  private AgentConnection current; // guarded by lock
  // Which endpoint the current or next connection uses; moves on when a stream ends.
  private int endpointIndex; // guarded by lock
  // Actions of ended streams that their server keeps for a re-attachment, by assignment id.
  private final Map<String, HeldAction> held = new LinkedHashMap<>(); // guarded by lock
  private ScheduledFuture<?> pendingReconnect; // guarded by lock
  private String loggedState = ""; // guarded by lock

  // Set by start(), before any connection exists: one channel per endpoint, and the channel that
  // follows the current endpoint, which the remote CAS uses.
  private volatile List<ManagedChannel> channels;
  private final SwitchingChannel channel = new SwitchingChannel();
  private volatile ScheduledThreadPoolExecutor timer;
  private volatile ThreadPoolExecutor slotPool;
  private volatile ActionRunner runner;
  // The configured properties until start(), then with the runner's added.
  private volatile Map<String, List<String>> properties;
  private volatile SandboxReport sandbox; // null: none reported

  private WorkerAgent(Builder builder) {
    this.endpoints = List.copyOf(builder.endpoints);
    this.name = builder.name != null ? builder.name : defaultName();
    this.slots = builder.slots;
    this.maxInboundMessageBytes = builder.maxInboundMessageBytes;
    this.properties = builder.properties;
    this.runnerFactory = builder.runnerFactory;
    this.runnerProperties = builder.runnerProperties;
    this.sandboxSupplier = builder.sandbox;
    this.backoff = new Backoff(builder.initialBackoff, builder.maxBackoff, builder.random);
    this.maxBackoff = builder.maxBackoff;
    this.clock = builder.clock;
    this.casTimeout = builder.casTimeout;
    this.statusSupplier = builder.statusSupplier;
    this.statusInterval = builder.statusInterval;
    this.tls = builder.tls;
    this.token = builder.token;
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    try {
      // Only literals are checked: a name is not looked up just to decide on a warning.
      return host.matches("[0-9.]+|[0-9a-fA-F:]+")
          && InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** {@return a builder; {@link Builder#endpoint} and {@link Builder#runner} are required} */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** {@return the name this worker registers with} */
  public String name() {
    return name;
  }

  /** {@return whether the agent is registered with the scheduler right now} */
  public boolean isConnected() {
    synchronized (lock) {
      return current != null && current.isRegistered();
    }
  }

  /**
   * Creates the runner, opens the channel and starts connecting; returns without waiting for the
   * scheduler, which may not be up yet.
   *
   * @throws IllegalStateException if called twice or after {@link #close()}
   * @throws RuntimeException whatever the runner factory throws; nothing is left running then
   */
  public void start() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("worker '" + name + "' is closed");
      }
      if (started) {
        throw new IllegalStateException("worker '" + name + "' is already started");
      }
      started = true;
    }
    List<ManagedChannel> made = new ArrayList<>();
    for (Endpoint endpoint : endpoints) {
      made.add(channel(endpoint));
    }
    channels = List.copyOf(made);
    channel.use(channels.get(0));
    timer = new ScheduledThreadPoolExecutor(1, Threads.nonDaemon("hearth-worker-timer-"));
    timer.setRemoveOnCancelPolicy(true);
    slotPool =
        new ThreadPoolExecutor(
            slots,
            slots,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            Threads.nonDaemon("hearth-worker-slot-"));
    try {
      runner =
          Objects.requireNonNull(
              runnerFactory.apply(this::cas), "the runner factory returned null");
      // What the runner found at start (its sandbox's network) joins the configured properties.
      if (runnerProperties != null) {
        Map<String, List<String>> merged = new TreeMap<>(properties);
        runnerProperties.get().forEach((key, values) -> merged.put(key, List.copyOf(values)));
        properties = Collections.unmodifiableMap(merged);
      }
      if (sandboxSupplier != null) {
        sandbox = SandboxReports.toProto(sandboxSupplier.get());
      }
    } catch (RuntimeException | Error e) {
      synchronized (lock) {
        closed = true;
      }
      if (runner != null) {
        runner.close();
      }
      slotPool.shutdownNow();
      timer.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
      throw e;
    }
    log.info(
        "Worker '{}' with {} slot{} and properties {} is connecting to the scheduler at {}",
        name,
        slots,
        slots == 1 ? "" : "s",
        properties,
        endpoints.size() == 1 ? endpoints.get(0) : endpoints);
    connect();
  }

  private ManagedChannel channel(Endpoint endpoint) {
    ChannelCredentials credentials =
        !endpoint.tls()
            ? InsecureChannelCredentials.create()
            : tls == null ? TlsChannelCredentials.create() : tls.channelCredentials();
    if (token != null) {
      credentials = CompositeChannelCredentials.create(credentials, token.callCredentials());
      if (!endpoint.tls() && !isLoopback(endpoint.host())) {
        // Allowed, since a trusted network may carry it, but anyone on the path can read it.
        log.warn(
            "Worker '{}' sends its {} in plaintext to {}; use grpcs:// so the token cannot be read"
                + " on the way",
            name,
            token,
            endpoint);
      }
    }
    return Grpc.newChannelBuilderForAddress(endpoint.host(), endpoint.port(), credentials)
        .maxInboundMessageSize(maxInboundMessageBytes)
        .userAgent("hearth-worker")
        .build();
  }

  /**
   * Stops taking new actions, tells the scheduler so (a Drain message: it then assigns this worker
   * nothing new and gives queued actions to others), and waits up to {@code timeout} for the
   * running ones to finish and their results to be sent; call {@link #close()} afterwards, which
   * ends the stream and stops the persistent-worker processes. Actions the scheduler assigned
   * before it read Drain run here too, and the wait ends only once the scheduler confirmed that
   * nothing more is on its way (see {@code AgentConnection.drain()}), so no action loses an attempt
   * to the drain. Actions still running when the time is up go back to the scheduler's queue when
   * the stream ends, and count as lost. A server too old to confirm keeps the wait going until the
   * timeout. The agent no longer reconnects once draining. Returns at once if the agent is not
   * connected.
   *
   * @param timeout how long to wait for the running actions
   * @return whether every running action finished in time
   */
  public boolean drain(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    AgentConnection connection;
    synchronized (lock) {
      if (closed || !started) {
        return true;
      }
      draining = true;
      if (pendingReconnect != null) {
        pendingReconnect.cancel(false);
      }
      connection = current;
    }
    if (connection == null) {
      return true;
    }
    log.info(
        "Worker '{}' is draining: it takes no new actions and waits up to {} s for the running"
            + " ones",
        name,
        timeout.toSeconds());
    boolean done;
    try {
      connection.drain().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      done = true;
    } catch (TimeoutException e) {
      log.warn(
          "Worker '{}': actions still running after {} s of draining; they go back to the queue",
          name,
          timeout.toSeconds());
      done = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done = false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the drain future never fails", e);
    }
    int late = connection.lateAssignments();
    if (done) {
      log.info(
          "Worker '{}' drained: its running actions finished{}",
          name,
          late == 0 ? "" : ", " + late + " of them assigned before the scheduler read Drain");
    }
    return done;
  }

  /**
   * Stops reconnecting, ends the stream (the scheduler queues the actions this worker was running
   * again), cancels those actions, waits briefly for their threads, and closes the runner and the
   * channel. Idempotent.
   */
  @Override
  public void close() {
    AgentConnection connection;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      connection = current;
      current = null;
      if (pendingReconnect != null) {
        pendingReconnect.cancel(false);
      }
      if (!started) {
        return;
      }
    }
    if (connection != null) {
      connection.shutdown();
    }
    if (slotPool == null || timer == null || runner == null || channels == null) {
      return; // start() failed, and released what it had made
    }
    List<HeldAction> orphans;
    synchronized (lock) {
      orphans = List.copyOf(held.values());
      held.clear();
    }
    orphans.forEach(action -> action.cancellation.cancel());
    slotPool.shutdown();
    try {
      if (!slotPool.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn(
            "Worker '{}': actions still running 10 s after they were cancelled; interrupting them",
            name);
        slotPool.shutdownNow();
      }
    } catch (InterruptedException e) {
      slotPool.shutdownNow();
      Thread.currentThread().interrupt();
    }
    timer.shutdownNow();
    try {
      runner.close();
    } catch (RuntimeException e) {
      log.warn("Worker '{}': closing its action runner failed", name, e);
    }
    channels.forEach(ManagedChannel::shutdown);
    try {
      for (ManagedChannel open : channels) {
        if (!open.awaitTermination(2, TimeUnit.SECONDS)) {
          open.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      channels.forEach(ManagedChannel::shutdownNow);
      Thread.currentThread().interrupt();
    }
    log.info("Worker '{}' stopped", name);
  }

  /**
   * Tells the scheduler how many idle persistent-worker processes this worker holds, per client key
   * (the {@code persistentWorkerKey} of the actions they serve), so that it sends actions of those
   * keys here first. Call it whenever the counts change; each call replaces the previous state
   * whole, and keys missing from the map, or with counts of zero or less, have no idle process.
   *
   * <p>Only the latest state is sent: calls that follow each other faster than the stream sends
   * cost one message. A state reported before the action that freed a process is answered reaches
   * the scheduler before that answer. The state is kept while the agent is disconnected and sent
   * again after each registration. Never blocks on the network.
   *
   * @param idleByClientKey the number of idle processes, by client key
   * @throws IllegalArgumentException for an empty key
   */
  public void reportWarmProcesses(Map<String, Integer> idleByClientKey) {
    Objects.requireNonNull(idleByClientKey, "idleByClientKey");
    Map<String, Integer> idle = new TreeMap<>();
    idleByClientKey.forEach(
        (key, count) -> {
          Objects.requireNonNull(key, "client key");
          Objects.requireNonNull(count, "count of " + key);
          if (key.isEmpty()) {
            throw new IllegalArgumentException(
                "a persistent worker's client key must not be empty");
          }
          if (count > 0) {
            idle.put(key, count);
          }
        });
    warmProcesses.set(Collections.unmodifiableMap(idle));
    AgentConnection connection = currentConnection();
    if (connection != null) {
      connection.warmProcessesChanged();
    }
  }

  /** Cancels the current stream as a broken network would; for tests. */
  void breakConnection() {
    AgentConnection connection = currentConnection();
    if (connection != null) {
      connection.abort("connection broken on purpose");
    }
  }

  /** The current connection, or null between connections. */
  private AgentConnection currentConnection() {
    synchronized (lock) {
      return current;
    }
  }

  /** The remote CAS of {@code instanceName}, one per instance, sharing the agent's channel. */
  private ContentAddressableStorage cas(String instanceName) {
    Objects.requireNonNull(instanceName, "instanceName");
    return casByInstance.computeIfAbsent(
        instanceName, instance -> new RemoteCas(channel, instance, casTimeout));
  }

  private void connect() {
    AgentConnection connection;
    ManagedChannel endpointChannel;
    synchronized (lock) {
      pendingReconnect = null;
      if (closed || draining) {
        return;
      }
      endpointChannel = channels.get(endpointIndex);
      channel.use(endpointChannel);
      List<HeldAction> offered = List.copyOf(held.values());
      held.clear();
      connection =
          new AgentConnection(
              events,
              register(),
              warmProcesses::get,
              statusSupplier == null ? null : this::status,
              statusInterval,
              runner,
              slotPool,
              timer,
              clock,
              offered);
      current = connection;
    }
    // The channel has its own, slower back-off between connection attempts; ours decides.
    endpointChannel.resetConnectBackoff();
    connection.start(WorkerApiGrpc.newStub(endpointChannel));
  }

  /** The endpoint the current or next connection uses. */
  private Endpoint endpoint() {
    synchronized (lock) {
      return endpoints.get(endpointIndex);
    }
  }

  /** Cancels the held actions whose server's grace has passed with no server adopting them. */
  private void expireHeld() {
    long now = clock.millis();
    List<HeldAction> expired = new ArrayList<>();
    synchronized (lock) {
      held.values()
          .removeIf(
              action -> {
                if (action.orphanedUntilMillis() <= now) {
                  expired.add(action);
                  return true;
                }
                return false;
              });
    }
    if (!expired.isEmpty()) {
      log.warn(
          "Worker '{}': no server adopted {} action(s) within the grace its server announced;"
              + " cancelling them (the service has queued them again)",
          name,
          expired.size());
      expired.forEach(action -> action.cancellation.cancel());
    }
  }

  private Register register() {
    Register.Builder register =
        Register.newBuilder()
            .setName(name)
            .setSlots(slots)
            .setMaxMessageBytes(maxInboundMessageBytes);
    if (sandbox != null) {
      register.setSandbox(sandbox);
    }
    properties.forEach(
        (key, values) -> {
          for (String value : values) {
            register.addProperties(Platform.Property.newBuilder().setName(key).setValue(value));
          }
        });
    return register.build();
  }

  /** The status message of the moment, made on the timer thread or before an action's result. */
  private WorkerStatus status() {
    WorkerStatus.Builder status = WorkerStatus.newBuilder();
    Optional<PoolStats> stats = statusSupplier.get();
    if (stats != null && stats.isPresent()) {
      status.setPersistentWorkers(PoolStatsMessages.toProto(stats.get()));
    }
    return status.build();
  }

  /** Records the state the log last reported; false if it was already {@code state}. */
  private boolean changeState(String state) {
    synchronized (lock) {
      if (state.equals(loggedState)) {
        return false;
      }
      loggedState = state;
      return true;
    }
  }

  private static String describe(Status status) {
    StringBuilder sb = new StringBuilder(status.getCode().toString());
    if (status.getDescription() != null) {
      sb.append(": ").append(status.getDescription());
    }
    if (status.getCause() != null && status.getCause().getMessage() != null) {
      sb.append(" (").append(status.getCause().getMessage()).append(')');
    }
    return sb.toString();
  }

  private static String defaultName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = System.getenv().getOrDefault("HOSTNAME", "worker");
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  /** The connections' callbacks, kept off the public surface. */
  private final class Events implements AgentConnection.Owner {

    @Override
    public void registered(AgentConnection connection) {
      synchronized (lock) {
        if (connection != current || closed) {
          return;
        }
      }
      backoff.reset();
      if (changeState("connected")) {
        log.info("Worker '{}' connected to scheduler at {}", name, endpoint());
      }
    }

    @Override
    public void keep(Collection<HeldAction> actions) {
      long earliest = Long.MAX_VALUE;
      synchronized (lock) {
        if (closed) {
          earliest = Long.MIN_VALUE;
        } else {
          for (HeldAction action : actions) {
            held.put(action.id, action);
            earliest = Math.min(earliest, action.orphanedUntilMillis());
          }
        }
      }
      if (earliest == Long.MIN_VALUE) {
        actions.forEach(action -> action.cancellation.cancel());
        return;
      }
      try {
        timer.schedule(
            WorkerAgent.this::expireHeld,
            Math.max(0, earliest - clock.millis()),
            TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        actions.forEach(action -> action.cancellation.cancel()); // closing
      }
    }

    @Override
    public void ended(AgentConnection connection, Status status) {
      boolean wasRegistered = connection.wasRegistered();
      Duration delay;
      Endpoint lost;
      synchronized (lock) {
        if (connection != current || closed || draining) {
          return;
        }
        lost = endpoints.get(endpointIndex);
        // The next attempt goes to the next server: this one's stream ended or never opened.
        endpointIndex = (endpointIndex + 1) % endpoints.size();
        delay = wasRegistered && endpoints.size() > 1 ? Duration.ZERO : backoff.next();
        try {
          pendingReconnect =
              timer.schedule(WorkerAgent.this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
          return; // closing
        }
      }
      if (wasRegistered) {
        changeState("lost");
        log.warn(
            "Worker '{}' lost its connection to the scheduler at {}: {}; reconnecting",
            name,
            lost,
            describe(status));
      } else if (changeState("failing:" + status.getCode())) {
        log.warn(
            "Worker '{}' cannot register with the scheduler at {}: {}; retrying with back-off"
                + " (at most {} ms apart)",
            name,
            lost,
            describe(status),
            maxBackoff.toMillis());
      } else {
        log.debug(
            "Worker '{}': attempt failed again ({}); next in {} ms",
            name,
            describe(status),
            delay.toMillis());
      }
    }
  }

  /**
   * Builds a {@link WorkerAgent}. Each setter checks its argument and throws {@link
   * IllegalArgumentException} with the reason. Not thread-safe.
   */
  public static final class Builder {
    private List<Endpoint> endpoints;
    private String name;
    private int slots = Runtime.getRuntime().availableProcessors();
    private int maxInboundMessageBytes = DEFAULT_MAX_INBOUND_MESSAGE_BYTES;
    private Map<String, List<String>> properties = Map.of();
    private Function<Function<String, ContentAddressableStorage>, ActionRunner> runnerFactory;
    private Supplier<? extends Map<String, ? extends Collection<String>>> runnerProperties;
    private Supplier<SandboxCapabilities> sandbox;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(10);
    private Clock clock = Clock.systemUTC();
    private Random random = new Random();
    private Duration casTimeout = Duration.ofMinutes(1);
    private Supplier<Optional<PoolStats>> statusSupplier;
    private Duration statusInterval = Duration.ofSeconds(5);
    private ClientTls tls;
    private BearerToken token;

    private Builder() {}

    /**
     * The authorities to trust and the client certificate to present on a {@code grpcs://} or
     * {@code https://} endpoint; by default the JDK's trusted authorities and no certificate.
     *
     * @param tls the authorities and the client certificate
     * @return this builder
     */
    public Builder tls(ClientTls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /**
     * A token sent as {@code authorization: Bearer <token>} on every call to the scheduler (the
     * worker API and the CAS); none by default.
     *
     * @param token the token
     * @return this builder
     */
    public Builder bearerToken(BearerToken token) {
      this.token = Objects.requireNonNull(token, "token");
      return this;
    }

    /**
     * Where the scheduler's worker API listens: {@code grpc://HOST:PORT} or {@code
     * http://HOST:PORT} in plaintext, or {@code grpcs://HOST[:PORT]} or {@code https://HOST[:PORT]}
     * over TLS with the JDK's trusted certificates (port 443 by default). Required.
     *
     * @param endpoint the scheduler's endpoint
     * @return this builder
     * @throws IllegalArgumentException naming the problem and the accepted forms
     */
    public Builder endpoint(String endpoint) {
      this.endpoints = List.of(Endpoint.parse(Objects.requireNonNull(endpoint, "endpoint")));
      return this;
    }

    /**
     * Several servers of one service (sharing a scheduler state), each as {@link #endpoint}: the
     * agent connects to the first, and whenever a stream ends or a connection attempt fails, tries
     * the next (round robin). A worker whose server went away re-attaches through another and
     * delivers what it was running there, if the server said it keeps a lost worker's actions.
     *
     * @param endpoints the servers' worker API endpoints, at least one
     * @return this builder
     * @throws IllegalArgumentException for an empty list or an endpoint that does not parse
     */
    public Builder endpoints(List<String> endpoints) {
      Objects.requireNonNull(endpoints, "endpoints");
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("give at least one scheduler endpoint");
      }
      List<Endpoint> parsed = new ArrayList<>();
      for (String endpoint : endpoints) {
        parsed.add(Endpoint.parse(Objects.requireNonNull(endpoint, "endpoint")));
      }
      this.endpoints = List.copyOf(parsed);
      return this;
    }

    /**
     * The name to register with, unique among the scheduler's workers; by default the host name and
     * the process id, such as {@code builder-7-4711}.
     *
     * @param name the worker's name
     * @return this builder
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("a worker's name must not be blank");
      }
      this.name = name;
      return this;
    }

    /**
     * How many actions to run at once; by default the number of processors.
     *
     * @param slots the number of actions to run at once
     * @return this builder
     * @throws IllegalArgumentException if {@code slots} is less than 1
     */
    public Builder slots(int slots) {
      if (slots < 1) {
        throw new IllegalArgumentException("a worker needs at least 1 slot, not " + slots);
      }
      this.slots = slots;
      return this;
    }

    /**
     * The largest message to accept from the server (a standalone worker's {@code maxMessageSize});
     * {@link #DEFAULT_MAX_INBOUND_MESSAGE_BYTES} by default. The server learns it at registration
     * and sends this worker no larger assignment; an action whose assignment would be larger fails
     * alone with INVALID_ARGUMENT. Keep it at least the server's {@code
     * workerApi.maxAssignmentSize} (33 MiB by default), or large commands cannot run here.
     *
     * @param bytes the bound, at least {@link #MIN_INBOUND_MESSAGE_BYTES}
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is below the minimum
     */
    public Builder maxInboundMessageBytes(int bytes) {
      if (bytes < MIN_INBOUND_MESSAGE_BYTES) {
        throw new IllegalArgumentException(
            "maxMessageSize must be at least "
                + MIN_INBOUND_MESSAGE_BYTES
                + " bytes (4 MiB), not "
                + bytes);
      }
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * The platform properties to offer, each with one or more values, such as {@code OSFamily ->
     * [Linux]}; none by default.
     *
     * @param properties the values of each platform property, by name
     * @return this builder
     * @throws IllegalArgumentException for a property without a name
     */
    public Builder properties(Map<String, ? extends Collection<String>> properties) {
      Map<String, List<String>> copy = new TreeMap<>();
      properties.forEach(
          (key, values) -> {
            Objects.requireNonNull(key, "property name");
            if (key.isEmpty()) {
              throw new IllegalArgumentException("a platform property needs a name");
            }
            for (String value : values) {
              Objects.requireNonNull(value, "value of property " + key);
            }
            copy.put(key, List.copyOf(values));
          });
      this.properties = Collections.unmodifiableMap(copy);
      return this;
    }

    /**
     * Makes the runner, once, when the agent starts. The factory receives the remote CAS of each
     * instance by name ({@link build.hearth.spi.worker.ExecutionTask#instanceName()}), through
     * which the runner reads inputs and writes outputs. The agent closes the runner when it closes.
     * Required.
     *
     * @param factory makes the runner from the remote CAS of each instance, by instance name
     * @return this builder
     */
    public Builder runner(
        Function<Function<String, ContentAddressableStorage>, ActionRunner> factory) {
      this.runnerFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Properties the runner adds to {@link #properties}, read once when the agent starts, right
     * after the runner is made: those that follow from what the runner found on this machine, such
     * as the {@code network} its sandbox gives actions. A property named in both takes these
     * values.
     *
     * @param supplier the added properties, by name
     * @return this builder
     */
    public Builder runnerProperties(
        Supplier<? extends Map<String, ? extends Collection<String>>> supplier) {
      this.runnerProperties = Objects.requireNonNull(supplier, "supplier");
      return this;
    }

    /**
     * What the runner's sandbox does on this machine, read once when the agent starts, right after
     * the runner is made, and sent with every registration for the server's {@code hearth admin
     * status}; nothing is sent without it.
     *
     * @param supplier the sandbox's capabilities, such as the runtime's
     * @return this builder
     */
    public Builder sandbox(Supplier<SandboxCapabilities> supplier) {
      this.sandbox = Objects.requireNonNull(supplier, "supplier");
      return this;
    }

    /**
     * The delays between reconnection attempts: {@code initial} (100 ms by default), doubling up to
     * {@code max} (10 s by default), each varied by up to 20%.
     *
     * @param initial the first delay
     * @param max the longest delay
     * @return this builder
     * @throws IllegalArgumentException if {@code initial} is not positive or {@code max} is shorter
     *     than {@code initial}
     */
    public Builder backOff(Duration initial, Duration max) {
      Objects.requireNonNull(initial, "initial");
      Objects.requireNonNull(max, "max");
      new Backoff(initial, max, new Random(0)); // validates
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /**
     * The clock that measures how long the scheduler has been silent; the system clock by default.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Where the statistics of the worker's persistent-worker pool come from, such as {@code
     * LocalActionRunner::persistentWorkerStats}; empty when it runs none (yet). Called on the
     * agent's timer thread right after each registration and then every {@link #statusInterval},
     * and on the thread that sends an action's result, just before it; it must be quick. Without
     * one, the agent sends no status and the server lists the worker without persistent workers.
     *
     * @param supplier the source of the pool's statistics
     * @return this builder
     */
    public Builder statusSupplier(Supplier<Optional<PoolStats>> supplier) {
      this.statusSupplier = Objects.requireNonNull(supplier, "supplier");
      return this;
    }

    /**
     * How often to send the status after registration; 5 seconds by default.
     *
     * @param interval the time between two periodic status messages
     * @return this builder
     * @throws IllegalArgumentException if {@code interval} is not positive
     */
    public Builder statusInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the status interval must be positive, not " + interval);
      }
      this.statusInterval = interval;
      return this;
    }

    /** The source of back-off jitter; for tests that want it reproducible. */
    Builder random(Random random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** The deadline of the remote CAS's unary calls, and how long its uploads may stall. */
    Builder casTimeout(Duration timeout) {
      this.casTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Builds the agent; it does nothing until {@link WorkerAgent#start()}.
     *
     * @return the agent
     * @throws IllegalStateException if the endpoint or the runner is missing
     */
    public WorkerAgent build() {
      if (endpoints == null) {
        throw new IllegalStateException("set the scheduler's endpoint, such as grpc://HOST:50052");
      }
      for (Endpoint endpoint : endpoints) {
        if (tls != null && !endpoint.tls()) {
          // Files given for TLS with a plaintext endpoint mean the endpoint is wrong, not the
          // files.
          throw new IllegalStateException(
              "TLS files were given, but the scheduler endpoint '"
                  + endpoint
                  + "' is plaintext; use grpcs://HOST:PORT");
        }
      }
      if (runnerFactory == null) {
        throw new IllegalStateException("set the runner that runs the actions");
      }
      return new WorkerAgent(this);
    }
  }
}
