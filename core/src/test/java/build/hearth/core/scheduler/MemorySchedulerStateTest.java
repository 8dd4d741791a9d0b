package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.SchedulerStateProviderRegistry;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.SchedulerStateContractTest;
import com.google.protobuf.ByteString;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code memory} state against the conformance suite. Its "servers" are views of one state
 * whose {@code close} leaves the state open, as two clients of one Redis would.
 */
class MemorySchedulerStateTest extends SchedulerStateContractTest {
  private final Map<String, MemorySchedulerState> states = new HashMap<>();

  @Override
  protected SchedulerState open(Clock clock, String namespace) {
    MemorySchedulerState shared =
        states.computeIfAbsent(namespace, n -> new MemorySchedulerState(clock, 32L << 20));
    return (SchedulerState)
        Proxy.newProxyInstance(
            SchedulerState.class.getClassLoader(),
            new Class<?>[] {SchedulerState.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close")) {
                return null;
              }
              try {
                return method.invoke(shared, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @AfterEach
  void closeShared() {
    states.values().forEach(MemorySchedulerState::close);
  }

  @Test
  void completedResponsesBeyondTheirBoundAreForgottenOldestFirst() {
    MemorySchedulerState bounded = new MemorySchedulerState(clock, 4096);
    ByteString big = ByteString.copyFrom(new byte[1500]);
    List<String> ids = List.of("e1", "e2", "e3");
    for (String id : ids) {
      bounded.enqueue(
          QueuedExecution.of(id, "q", "", 0, Duration.ZERO, ByteString.EMPTY, clock.instant()),
          100);
      bounded.complete(id, big, Duration.ofHours(1));
    }

    assertThat(bounded.execution("e1")).isEmpty();
    assertThat(bounded.execution("e2")).isPresent();
    assertThat(bounded.execution("e3")).isPresent();
  }

  @Test
  void theMemoryTypeIsFoundThroughServiceLoaderAndChecksItsSettings() {
    SchedulerStateProviderRegistry registry =
        SchedulerStateProviderRegistry.discover(getClass().getClassLoader());
    assertThat(registry.types()).contains("memory");

    StoreSettings bad =
        StoreSettings.of("schedulers.default.state", Map.of("maxCompletedSize", "-1MiB"));
    assertThatThrownBy(
            () ->
                registry.create(
                    "memory",
                    "schedulers.default.state.type",
                    0,
                    StoreContext.newBuilder("default", bad).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("schedulers.default.state.maxCompletedSize");
    StoreSettings unknown = StoreSettings.of("schedulers.default.state", Map.of("color", "red"));
    assertThatThrownBy(
            () ->
                registry.create(
                    "memory",
                    "schedulers.default.state.type",
                    0,
                    StoreContext.newBuilder("default", unknown).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("color");
    assertThatThrownBy(
            () ->
                registry.create(
                    "mongo",
                    "schedulers.default.state.type",
                    0,
                    StoreContext.newBuilder("default", unknown).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown scheduler state type \"mongo\"")
        .hasMessageContaining("\"memory\"");
  }
}
