package build.hearth.core.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.worker.WorkerSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlatformLexiconTest {
  @ParameterizedTest
  @CsvSource({
    "Linux, linux",
    "Mac OS X, macos",
    "Windows 10, windows",
    "Windows Server 2022, windows",
    "FreeBSD, freebsd",
    "AIX, aix",
    "SunOS, sunos",
  })
  void osNamesMapToTheLexiconsOsFamily(String osName, String family) {
    assertThat(PlatformLexicon.osFamily(osName)).hasValue(family);
  }

  @Test
  void anOsTheLexiconDoesNotNameHasNoOsFamily() {
    assertThat(PlatformLexicon.osFamily("Plan 9")).isEmpty();
    assertThat(PlatformLexicon.osFamily("")).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "amd64, x86-64",
    "x86_64, x86-64",
    "aarch64, arm-a64",
    "arm64, arm-a64",
    "x86, x86-32",
    "i386, x86-32",
    "arm, arm-a32",
    "ppc64le, power-isa-le",
    "ppc64, power-isa-be",
    "sparcv9, sparc-v9",
  })
  void osArchMapsToTheLexiconsIsa(String osArch, String isa) {
    assertThat(PlatformLexicon.isa(osArch)).hasValue(isa);
  }

  @Test
  void anArchitectureTheLexiconDoesNotNameHasNoIsa() {
    assertThat(PlatformLexicon.isa("riscv64")).isEmpty();
  }

  @Test
  void detectOffersBothWhenBothAreKnownAndOnlyWhatIsKnown() {
    assertThat(PlatformLexicon.detect("Linux", "amd64"))
        .isEqualTo(Map.of("OSFamily", List.of("linux"), "ISA", List.of("x86-64")));
    assertThat(PlatformLexicon.detect("Mac OS X", "aarch64"))
        .isEqualTo(Map.of("OSFamily", List.of("macos"), "ISA", List.of("arm-a64")));
    assertThat(PlatformLexicon.detect("Plan 9", "riscv64")).isEmpty();
  }

  @Test
  void configuredValuesWinOverDetectedOnes() {
    Map<String, List<String>> offered =
        PlatformLexicon.withDetected(
            Map.of("OSFamily", List.of("Linux"), "pool", List.of("large")));

    assertThat(offered).containsEntry("OSFamily", List.of("Linux"));
    assertThat(offered).containsEntry("pool", List.of("large"));
    Map<String, List<String>> detected = PlatformLexicon.detected();
    if (detected.containsKey("ISA")) {
      assertThat(offered).containsEntry("ISA", detected.get("ISA"));
    }
    assertThat(offered.keySet())
        .isSubsetOf(Set.of("OSFamily", "pool", "ISA"))
        .contains("OSFamily", "pool");
  }

  @Test
  void osFamilyValuesInAnotherLetterCaseAreAliasesOfTheLexiconsValues() {
    assertThat(PlatformLexicon.canonical("OSFamily", "Linux")).isEqualTo("linux");
    assertThat(PlatformLexicon.canonical("OSFamily", "WINDOWS")).isEqualTo("windows");
    assertThat(PlatformLexicon.canonical("OSFamily", "MacOS")).isEqualTo("macos");
    // Values outside the lexicon, and other properties, are compared as they are.
    assertThat(PlatformLexicon.canonical("OSFamily", "Haiku")).isEqualTo("Haiku");
    assertThat(PlatformLexicon.canonical("pool", "Linux")).isEqualTo("Linux");
    assertThat(PlatformLexicon.canonical("ISA", "X86-64")).isEqualTo("X86-64");
  }

  @Test
  void aWorkerSpecIsCanonicalisedOnlyInOsFamily() {
    WorkerSpec spec =
        WorkerSpec.builder("w")
            .slots(2)
            .property("OSFamily", "Linux")
            .property("pool", "A")
            .build();

    WorkerSpec canonical = PlatformLexicon.canonical(spec);

    assertThat(canonical.properties())
        .isEqualTo(Map.of("OSFamily", Set.of("linux"), "pool", Set.of("A")));
    assertThat(canonical.name()).isEqualTo("w");
    assertThat(canonical.slots()).isEqualTo(2);
  }
}
