package build.hearth.redis;

import build.hearth.redis.testing.RedisCluster;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.testing.SchedulerStateContractTest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler-state suite against a real three-node Redis Cluster: every key of a scheduler
 * shares one hash tag, so each script runs in one slot, and notifications published on that slot's
 * node reach a subscriber connected to another.
 */
class RedisClusterSchedulerStateTest extends SchedulerStateContractTest {
  @TempDir static Path dir;
  static RedisCluster redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisCluster.start(dir);
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @Override
  protected SchedulerState open(Clock clock, String namespace) {
    return RedisSchedulerStateTest.openState(RedisTestStores.cluster(redis.uris()), namespace);
  }

  @Override
  protected void letTimePass(Duration duration) {
    super.letTimePass(duration);
    RedisTestStores.sleep(duration);
  }
}
