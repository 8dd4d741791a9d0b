package build.hearth.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Every layering rule holds for Hearth's production classes. */
class LayeringTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = Layering.productionClasses();
    // A rule over no classes passes vacuously; make sure every module was actually read.
    for (String module :
        new String[] {
          "build.hearth.api",
          "build.hearth.spi.transport",
          "build.hearth.spi.scheduler",
          "build.hearth.testing",
          "build.hearth.testing.transport",
          "build.hearth.core",
          "build.hearth.core.scheduler",
          "build.hearth.core.sandbox",
          "build.hearth.grpc",
          "build.hearth.grpc.common",
          "build.hearth.grpc.security",
          "build.hearth.core.security",
          "build.hearth.spi.security",
          "build.hearth.agent",
          "build.hearth.server"
        }) {
      assertThat(classes.containPackage(module)).as("classes of package %s read", module).isTrue();
    }
  }

  static final java.util.List<ArchRule> rules = Layering.ALL;

  @ParameterizedTest(name = "{0}")
  @FieldSource("rules")
  void holds(ArchRule rule) {
    rule.check(classes);
  }
}
