package build.hearth.architecture;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The negative control of {@link LayeringTest}: classes in this module's test sources cross a layer
 * on purpose, and each rule fails on them with a message that names the layer crossed. Without
 * this, a rule that matched nothing (a mistyped package, say) would pass forever.
 */
class LayeringCatchesCrossedLayersTest {

  @Test
  void apiReachingGrpcFails() {
    assertFails(
        Layering.API_AND_SPI_ARE_FREE_OF_GRPC_NETTY_AND_JACKSON,
        "build.hearth.api.crossing",
        "must not reach gRPC, Netty or Jackson",
        "ApiUsingGrpc");
  }

  @Test
  void coreReachingTheTransportFails() {
    assertFails(
        Layering.CORE_NEVER_REACHES_A_TRANSPORT,
        "build.hearth.core.crossing",
        "core is the engine under every transport",
        "CoreUsingTheTransport");
  }

  @Test
  void redisReachingCoreFails() {
    assertFails(
        Layering.REDIS_IS_A_PLUGIN_ON_API_AND_SPI,
        "build.hearth.redis.crossing",
        "hearth-redis is a storage plugin like any other",
        "RedisUsingCore");
  }

  @Test
  void coreReachingRedisFails() {
    assertFails(
        Layering.ONLY_THE_SERVER_BUNDLES_REDIS,
        "build.hearth.core.crossing.redis",
        "the redis stores are found through ServiceLoader",
        "CoreUsingRedis");
  }

  @Test
  void theSandboxReachingTheWorkerFails() {
    assertFails(
        Layering.CORE_SANDBOX_SITS_ON_CONFIG_AND_PROCESS,
        "build.hearth.core.sandbox.crossing",
        "core.sandbox confines processes for the worker's runners",
        "SandboxUsingTheWorker");
  }

  @Test
  void theAgentReachingTheServerSideFails() {
    assertFails(
        Layering.AGENT_NEVER_IMPORTS_THE_SERVER_SIDE,
        "build.hearth.agent.crossing",
        "the remote worker's client runs on another machine",
        "AgentUsingTheServerSide");
  }

  @Test
  void grpcInternalsOutsideTheHttpSideFail() {
    assertFails(
        Layering.ONLY_GRPC_HTTP_AND_TLS_USE_GRPCS_INTERNAL_APIS,
        "build.hearth.grpc.crossing",
        "grpc.http, the shared port's HTTP side, and grpc.tls",
        "TransportUsingGrpcInternals");
    assertFails(
        Layering.ONLY_GRPC_HTTP_AND_TLS_USE_GRPCS_INTERNAL_APIS,
        "build.hearth.grpc.crossing",
        "are the only places that use them",
        "TransportUsingGrpcCoreInternals");
  }

  @Test
  void tlsReachingTheServicesFails() {
    assertFails(
        Layering.GRPC_TLS_USES_NO_SERVICE,
        "build.hearth.grpc.tls.crossing",
        "it needs none of the services",
        "TlsUsingTheSharedPort");
  }

  @Test
  void theSuitesReachingCoreFail() {
    assertFails(
        Layering.TESTING_SITS_ON_API_AND_SPI,
        "build.hearth.testing.crossing",
        "never need Hearth's engine",
        "TestingUsingCoreInternal");
    assertFails(
        Layering.CORE_INTERNAL_ONLY_WHERE_EXPORTED,
        "build.hearth.testing.crossing",
        "core.internal is exported only to Hearth's own",
        "TestingUsingCoreInternal");
  }

  @Test
  void theAccessCheckReachingAServiceFails() {
    assertFails(
        Layering.GRPC_SECURITY_SITS_BELOW_THE_SERVICES,
        "build.hearth.grpc.security.crossing",
        "grpc.security checks every call before a service sees it",
        "SecurityUsingAService");
  }

  @Test
  void aServiceCheckingCredentialsItselfFails() {
    assertFails(
        Layering.CREDENTIALS_ARE_CHECKED_ONLY_AT_THE_EDGE,
        "build.hearth.grpc.reapi.crossing",
        "services never parse credentials themselves",
        "ServiceCheckingCredentials");
  }

  @Test
  void aPackageCycleFails() {
    assertFails(
        Layering.NO_PACKAGE_CYCLES,
        "build.hearth.core.crossing.cycle",
        "dependencies between packages point one way",
        "First");
  }

  private static void assertFails(
      ArchRule rule, String fixturePackage, String layerNamed, String offender) {
    JavaClasses fixtures = new ClassFileImporter().importPackages(fixturePackage);
    assertThatThrownBy(() -> rule.check(fixtures))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining(layerNamed)
        .hasMessageContaining(offender);
  }
}
