package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.spi.scheduler.SchedulerStateProvider;
import build.hearth.spi.storage.ActionCacheStoreProvider;
import build.hearth.spi.storage.BlobStoreProvider;
import build.hearth.spi.transport.TransportProvider;
import build.hearth.testing.FakeClock;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The published api, spi, testing and core modules carry real module descriptors, and a module
 * layer of them resolves against their dependencies as embedders and plugin authors would see them
 * on the module path.
 */
class ModuleDescriptorsTest {

  @Test
  void apiDescriptorIsExplicitAndExportsOnlyTheApi() throws Exception {
    ModuleDescriptor api = descriptor(location(Digest.class), "build.hearth.api");

    assertThat(api.isAutomatic()).isFalse();
    assertThat(exported(api)).containsExactly("build.hearth.api");
    assertThat(transitiveRequires(api))
        .contains("build.hearth.proto", "com.google.protobuf", "proto.google.common.protos");
  }

  @Test
  void spiDescriptorExportsTheSpiPackagesAndUsesTheProviders() throws Exception {
    ModuleDescriptor spi = descriptor(location(BlobStoreProvider.class), "build.hearth.spi");

    assertThat(spi.isAutomatic()).isFalse();
    assertThat(exported(spi))
        .containsExactlyInAnyOrder(
            "build.hearth.spi.scheduler",
            "build.hearth.spi.security",
            "build.hearth.spi.storage",
            "build.hearth.spi.transport",
            "build.hearth.spi.worker");
    assertThat(transitiveRequires(spi)).contains("build.hearth.api");
    assertThat(spi.uses())
        .containsExactlyInAnyOrder(
            BlobStoreProvider.class.getName(),
            ActionCacheStoreProvider.class.getName(),
            TransportProvider.class.getName(),
            SchedulerStateProvider.class.getName());
  }

  @Test
  void transportTestingDescriptorExportsItsSuiteAndReadsGrpc() throws Exception {
    ModuleDescriptor transport =
        descriptor(
            location(build.hearth.testing.transport.TransportContractTest.class),
            "build.hearth.testing.transport");

    assertThat(transport.isAutomatic()).isFalse();
    assertThat(exported(transport)).containsExactly("build.hearth.testing.transport");
    assertThat(transitiveRequires(transport))
        .contains("build.hearth.spi", "org.junit.jupiter.api", "io.grpc");
  }

  @Test
  void testingDescriptorExportsTheSuitesAndOpensThemToJUnit() throws Exception {
    ModuleDescriptor testing = descriptor(location(FakeClock.class), "build.hearth.testing");

    assertThat(testing.isAutomatic()).isFalse();
    assertThat(exported(testing)).containsExactly("build.hearth.testing");
    assertThat(transitiveRequires(testing)).contains("build.hearth.spi", "org.junit.jupiter.api");
    assertThat(testing.requires().stream().map(ModuleDescriptor.Requires::name))
        .as("hearth-testing is a storage plugin's test dependency: no gRPC")
        .noneMatch(name -> name.startsWith("io.grpc"));
    assertThat(testing.opens())
        .singleElement()
        .satisfies(
            opens -> {
              assertThat(opens.source()).isEqualTo("build.hearth.testing");
              assertThat(opens.targets()).containsExactly("org.junit.platform.commons");
            });
  }

  @Test
  void coreDescriptorExportsItsEngineOnlyToHearthsOwnModules() throws Exception {
    ModuleDescriptor core = descriptor(location(Hearth.class), "build.hearth.core");

    assertThat(core.isAutomatic()).isFalse();
    assertThat(transitiveRequires(core)).contains("build.hearth.spi");
    // What embedders use is exported to everyone ...
    assertThat(
            core.exports().stream()
                .filter(e -> !e.isQualified())
                .map(ModuleDescriptor.Exports::source))
        .containsExactlyInAnyOrder("build.hearth.core", "build.hearth.core.config");
    // ... and every other package only to the transport, the remote worker and the server.
    Set<String> qualified =
        core.exports().stream()
            .filter(ModuleDescriptor.Exports::isQualified)
            .map(ModuleDescriptor.Exports::source)
            .collect(Collectors.toSet());
    assertThat(qualified)
        .contains(
            "build.hearth.core.internal",
            "build.hearth.core.scheduler",
            "build.hearth.core.security",
            "build.hearth.core.persistent")
        .hasSize(core.packages().size() - 2);
    // The web UI reads executions, schedulers and the workers' reports, and nothing else.
    Set<String> readByTheWebUi =
        Set.of(
            "build.hearth.core.execution", "build.hearth.core.ops", "build.hearth.core.scheduler");
    core.exports().stream()
        .filter(ModuleDescriptor.Exports::isQualified)
        .forEach(
            e -> {
              if (readByTheWebUi.contains(e.source())) {
                assertThat(e.targets())
                    .as(e.source())
                    .containsExactlyInAnyOrder(
                        "build.hearth.grpc",
                        "build.hearth.agent",
                        "build.hearth.server",
                        "build.hearth.web");
              } else {
                assertThat(e.targets())
                    .as(e.source())
                    .containsExactlyInAnyOrder(
                        "build.hearth.grpc", "build.hearth.agent", "build.hearth.server");
              }
            });
    assertThat(core.provides())
        .extracting(ModuleDescriptor.Provides::service)
        .containsExactlyInAnyOrder(
            BlobStoreProvider.class.getName(),
            ActionCacheStoreProvider.class.getName(),
            SchedulerStateProvider.class.getName());
  }

  @Test
  void redisDescriptorIsAPluginOnTheSpiAndLettuce() throws Exception {
    ModuleDescriptor redis =
        descriptor(location(build.hearth.redis.RedisBlobStoreProvider.class), "build.hearth.redis");
    assertThat(redis.isAutomatic()).isFalse();
    assertThat(exported(redis)).containsExactly("build.hearth.redis");
    assertThat(transitiveRequires(redis)).contains("build.hearth.spi");
    assertThat(redis.requires().stream().map(ModuleDescriptor.Requires::name))
        .as("a plugin on api + spi, with Lettuce as its client")
        .contains("lettuce.core")
        .doesNotContain("build.hearth.core", "build.hearth.grpc");
    assertThat(redis.provides())
        .extracting(ModuleDescriptor.Provides::service)
        .containsExactlyInAnyOrder(
            BlobStoreProvider.class.getName(),
            ActionCacheStoreProvider.class.getName(),
            SchedulerStateProvider.class.getName());
  }

  @Test
  void publishedModulesResolveIntoALayerWithTheirDependencies() throws Exception {
    ModuleFinder finder =
        ModuleFinder.of(
            location(Digest.class),
            location(BlobStoreProvider.class),
            location(FakeClock.class),
            // A jar even in builds that stop at `test`: see the jar plugin in hearth-proto's pom.
            location(build.bazel.remote.execution.v2.Digest.class),
            location(com.google.protobuf.ByteString.class),
            location(com.google.rpc.Status.class),
            location(org.slf4j.Logger.class),
            location(org.junit.jupiter.api.Test.class),
            location(org.junit.platform.commons.annotation.Testable.class),
            location(org.opentest4j.AssertionFailedError.class),
            location(org.assertj.core.api.Assertions.class),
            location(io.grpc.Channel.class),
            location(io.grpc.stub.StreamObserver.class),
            location(io.grpc.protobuf.ProtoUtils.class),
            location(Hearth.class),
            location(com.fasterxml.jackson.core.JsonFactory.class),
            location(io.prometheus.metrics.config.PrometheusProperties.class),
            location(io.prometheus.metrics.core.metrics.Counter.class),
            location(io.prometheus.metrics.model.registry.PrometheusRegistry.class),
            location(io.prometheus.metrics.expositionformats.ExpositionFormats.class),
            location(com.nimbusds.jose.JWSObject.class));

    Configuration configuration =
        ModuleLayer.boot()
            .configuration()
            .resolve(
                finder,
                ModuleFinder.of(),
                Set.of(
                    "build.hearth.api",
                    "build.hearth.spi",
                    "build.hearth.testing",
                    "build.hearth.core"));
    ModuleLayer layer =
        ModuleLayer.boot()
            .defineModulesWithOneLoader(configuration, ClassLoader.getPlatformClassLoader());

    Class<?> digest = layer.findLoader("build.hearth.api").loadClass(Digest.class.getName());
    assertThat(digest.getModule().getName()).isEqualTo("build.hearth.api");
    assertThat(digest.getModule().getDescriptor().isAutomatic()).isFalse();
    Module spi = layer.findModule("build.hearth.spi").orElseThrow();
    assertThat(spi.canRead(layer.findModule("build.hearth.proto").orElseThrow()))
        .as("spi reads the REAPI messages through api's requires transitive")
        .isTrue();
    assertThat(layer.findModule("build.hearth.proto").orElseThrow().getDescriptor().isAutomatic())
        .isTrue();
    Module core = layer.findModule("build.hearth.core").orElseThrow();
    assertThat(core.isExported("build.hearth.core")).isTrue();
    assertThat(core.isExported("build.hearth.core.scheduler"))
        .as("the engine's packages are not exported to embedders")
        .isFalse();
    Module testing = layer.findModule("build.hearth.testing").orElseThrow();
    Module junitCommons = layer.findModule("org.junit.platform.commons").orElseThrow();
    assertThat(testing.isOpen("build.hearth.testing", junitCommons)).isTrue();
  }

  private static ModuleDescriptor descriptor(Path location, String name) {
    ModuleReference reference = ModuleFinder.of(location).find(name).orElseThrow();
    return reference.descriptor();
  }

  private static Set<String> exported(ModuleDescriptor descriptor) {
    return descriptor.exports().stream()
        .map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toSet());
  }

  private static Set<String> transitiveRequires(ModuleDescriptor descriptor) {
    return descriptor.requires().stream()
        .filter(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE))
        .map(ModuleDescriptor.Requires::name)
        .collect(Collectors.toSet());
  }

  private static Path location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
