package build.hearth.redis;

import build.hearth.redis.testing.RedisServer;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.storage.StoreContext;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.testing.SchedulerStateContractTest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The scheduler-state suite against one real Redis; each test's state has keys of its own. */
class RedisSchedulerStateTest extends SchedulerStateContractTest {
  @TempDir static Path dir;
  static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start(dir);
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @Override
  protected SchedulerState open(Clock clock, String namespace) {
    return openState(RedisTestStores.standalone(redis.uri()), namespace);
  }

  /** Redis expires completed executions and operations by its own clock: let that time pass. */
  @Override
  protected void letTimePass(Duration duration) {
    super.letTimePass(duration);
    RedisTestStores.sleep(duration);
  }

  static SchedulerState openState(Map<String, Object> connection, String namespace) {
    Map<String, Object> all = new HashMap<>(connection);
    all.put("keyPrefix", namespace + ":");
    StoreSettings settings = StoreSettings.of("schedulers.default.state", all);
    SchedulerState state =
        new RedisSchedulerStateProvider()
            .create(StoreContext.newBuilder("default", settings).build());
    settings.rejectUnknown("redis");
    return state;
  }
}
