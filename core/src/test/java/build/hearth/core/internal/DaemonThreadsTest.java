package build.hearth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;

class DaemonThreadsTest {
  @Test
  void threadsAreDaemonsNumberedPerFactory() {
    ThreadFactory first = DaemonThreads.named("hearth-test-a-");
    ThreadFactory second = DaemonThreads.named("hearth-test-b-");
    Runnable nothing = () -> {};

    Thread a1 = first.newThread(nothing);
    Thread a2 = first.newThread(nothing);
    Thread b1 = second.newThread(nothing);

    assertThat(a1.getName()).isEqualTo("hearth-test-a-1");
    assertThat(a2.getName()).isEqualTo("hearth-test-a-2");
    assertThat(b1.getName()).isEqualTo("hearth-test-b-1");
    assertThat(a1.isDaemon()).isTrue();
    assertThat(b1.isDaemon()).isTrue();
  }
}
