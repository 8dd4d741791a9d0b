package build.hearth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;

class ThreadsTest {
  @Test
  void threadsAreDaemonsNumberedPerFactory() {
    ThreadFactory first = Threads.daemon("hearth-test-a-");
    ThreadFactory second = Threads.daemon("hearth-test-b-");
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

  @Test
  void nonDaemonThreadsAreNumberedPerFactoryToo() {
    ThreadFactory factory = Threads.nonDaemon("hearth-test-c-");
    Runnable nothing = () -> {};

    Thread c1 = factory.newThread(nothing);
    Thread c2 = factory.newThread(nothing);

    assertThat(c1.getName()).isEqualTo("hearth-test-c-1");
    assertThat(c2.getName()).isEqualTo("hearth-test-c-2");
    assertThat(c1.isDaemon()).isFalse();
    assertThat(c2.isDaemon()).isFalse();
  }
}
