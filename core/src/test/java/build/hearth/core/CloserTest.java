package build.hearth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloserTest {
  private final List<String> closed = new ArrayList<>();

  private AutoCloseable resource(String name) {
    return () -> closed.add(name);
  }

  private AutoCloseable failing(String name) {
    return () -> {
      closed.add(name);
      throw new IllegalStateException(name + " broke");
    };
  }

  @Test
  void closesInReverseOrderOnce() {
    Closer closer = new Closer();
    closer.register(resource("first"));
    closer.register(resource("second"));

    closer.close();
    closer.close();

    assertThat(closed).containsExactly("second", "first");
  }

  @Test
  void closesEveryResourceAndReportsTheFirstFailureWithTheOthersSuppressed() {
    Closer closer = new Closer();
    closer.register(failing("a"));
    closer.register(resource("b"));
    closer.register(failing("c"));

    assertThatThrownBy(closer::close)
        .isInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("c broke")
        .satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
    assertThat(closed).containsExactly("c", "b", "a");
  }

  @Test
  void closeAfterAddsFailuresToThePrimaryError() {
    Closer closer = new Closer();
    closer.register(failing("store"));
    RuntimeException primary = new RuntimeException("start failed");

    closer.closeAfter(primary);

    assertThat(closed).containsExactly("store");
    assertThat(primary.getSuppressed()).hasSize(1);
    assertThat(primary.getSuppressed()[0]).hasMessage("store broke");
  }
}
