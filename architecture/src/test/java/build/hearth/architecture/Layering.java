package build.hearth.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;

/**
 * Hearth's layering, as rules over compiled classes. Each rule's {@code because} names the layer a
 * violation crosses, so a failure says what went wrong before it lists the offending dependencies.
 * The map these rules keep true is in {@code docs/architecture.md}; a new package or module adds
 * its rule here.
 */
final class Layering {
  private Layering() {}

  /** The layers, by package. */
  static final String API = "build.hearth.api..";

  static final String SPI = "build.hearth.spi..";
  static final String SPI_INTERNAL = "build.hearth.spi.internal..";
  static final String TESTING = "build.hearth.testing..";
  static final String CORE = "build.hearth.core..";
  static final String CORE_INTERNAL = "build.hearth.core.internal..";
  static final String GRPC = "build.hearth.grpc..";
  static final String GRPC_TRANSPORT = "build.hearth.grpc";
  static final String GRPC_COMMON = "build.hearth.grpc.common..";
  static final String AGENT = "build.hearth.agent..";
  static final String SERVER = "build.hearth.server..";
  static final String REDIS = "build.hearth.redis..";
  static final String WEB = "build.hearth.web..";

  /** The gRPC module's packages that serve clients, which only the transport assembles. */
  static final String[] GRPC_SERVER_SIDE = {
    "build.hearth.grpc", // the transport itself
    "build.hearth.grpc.reapi..",
    "build.hearth.grpc.bytestream..",
    "build.hearth.grpc.http..",
    "build.hearth.grpc.workerapi..",
    "build.hearth.grpc.security.."
  };

  static final ArchRule API_AND_SPI_ARE_FREE_OF_GRPC_NETTY_AND_JACKSON =
      noClasses()
          .that()
          .resideInAnyPackage(API, SPI)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.grpc..", "io.netty..", "com.fasterxml.jackson..")
          .because(
              "api and spi are what embedders and plugin authors compile against: the layer below"
                  + " every transport and every configuration format must not reach gRPC, Netty or"
                  + " Jackson");

  static final ArchRule API_IS_THE_BOTTOM =
      noClasses()
          .that()
          .resideInAPackage(API)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(SPI, TESTING, CORE, GRPC, AGENT, SERVER)
          .because("api is the bottom layer: it depends on nothing of Hearth's but the protos");

  static final ArchRule SPI_SITS_ON_API_ONLY =
      noClasses()
          .that()
          .resideInAPackage(SPI)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(TESTING, CORE, GRPC, AGENT, SERVER)
          .because("spi sits on api only: a plugin compiles against api + spi");

  static final ArchRule TESTING_SITS_ON_API_AND_SPI =
      noClasses()
          .that()
          .resideInAPackage(TESTING)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(CORE, GRPC, AGENT, SERVER)
          .because(
              "the conformance suites test plugins through api + spi only, so a plugin's tests"
                  + " never need Hearth's engine");

  static final ArchRule STORAGE_SUITES_BRING_NO_GRPC =
      noClasses()
          .that()
          .resideInAPackage("build.hearth.testing")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.grpc..", "io.netty..", "build.hearth.testing.transport..")
          .because(
              "hearth-testing is every storage plugin's test dependency: gRPC belongs to the"
                  + " transport suite in hearth-testing-transport, so a storage plugin's test class"
                  + " path never carries it");

  static final ArchRule REDIS_IS_A_PLUGIN_ON_API_AND_SPI =
      noClasses()
          .that()
          .resideInAPackage(REDIS)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(SPI_INTERNAL, TESTING, CORE, GRPC, AGENT, SERVER, "io.grpc..")
          .because(
              "hearth-redis is a storage plugin like any other: it sees api and spi only, never"
                  + " core or grpc, so it proves the SPI is enough for a shared store");

  static final ArchRule ONLY_THE_SERVER_BUNDLES_REDIS =
      noClasses()
          .that()
          .resideInAnyPackage(API, SPI, TESTING, CORE, GRPC, AGENT)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(REDIS)
          .because(
              "the redis stores are found through ServiceLoader: the server only puts hearth-redis"
                  + " on the class path, and no layer below it names a Redis class");

  static final ArchRule CORE_NEVER_REACHES_A_TRANSPORT =
      noClasses()
          .that()
          .resideInAPackage(CORE)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(GRPC, AGENT, SERVER, "io.grpc..", "io.netty..")
          .because(
              "core is the engine under every transport: it must not import grpc, the remote"
                  + " worker's client, the server or gRPC itself");

  static final ArchRule GRPC_NEVER_REACHES_UP =
      noClasses()
          .that()
          .resideInAPackage(GRPC)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(AGENT, SERVER)
          .because("grpc is a transport under the server: it must not import the agent or server");

  static final ArchRule AGENT_NEVER_IMPORTS_THE_SERVER_SIDE =
      noClasses()
          .that()
          .resideInAPackage(AGENT)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(concat(GRPC_SERVER_SIDE, SERVER))
          .because(
              "the remote worker's client runs on another machine: it may use grpc.common and the"
                  + " generated stubs, never the server-side packages of grpc or the server");

  static final ArchRule GRPC_SERVICES_USE_ONLY_COMMON =
      noClasses()
          .that()
          .resideInAnyPackage(
              "build.hearth.grpc.reapi..",
              "build.hearth.grpc.bytestream..",
              "build.hearth.grpc.http..",
              "build.hearth.grpc.workerapi..",
              GRPC_COMMON)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(GRPC_TRANSPORT)
          .because(
              "grpc's packages are assembled by the transport in build.hearth.grpc; none of them"
                  + " reaches back to it");

  static final ArchRule GRPC_COMMON_IS_BELOW_THE_SERVICES =
      noClasses()
          .that()
          .resideInAPackage(GRPC_COMMON)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(GRPC_SERVER_SIDE)
          .because(
              "grpc.common is shared by the server side and the remote worker: it must not depend"
                  + " on either side's packages");

  static final ArchRule GRPC_SECURITY_SITS_BELOW_THE_SERVICES =
      noClasses()
          .that()
          .resideInAPackage("build.hearth.grpc.security..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              GRPC_TRANSPORT,
              "build.hearth.grpc.reapi..",
              "build.hearth.grpc.http..",
              "build.hearth.grpc.workerapi..")
          .because(
              "grpc.security checks every call before a service sees it: services may read the"
                  + " caller's identity from it, and it knows of them only the method table and"
                  + " ByteStream's resource names");

  static final ArchRule CREDENTIALS_ARE_CHECKED_ONLY_AT_THE_EDGE =
      noClasses()
          .that()
          .resideInAnyPackage(
              "build.hearth.grpc.reapi..",
              "build.hearth.grpc.bytestream..",
              "build.hearth.grpc.workerapi..",
              "build.hearth.grpc.common..",
              "build.hearth.core.cas..",
              "build.hearth.core.execution..",
              "build.hearth.core.scheduler..",
              "build.hearth.core.remote..",
              "build.hearth.core.worker..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("build.hearth.core.security..")
          .because(
              "identity and permission are established in one place at the edge of the transport"
                  + " (grpc.security with core.security behind spi.security); services never parse"
                  + " credentials themselves");

  static final ArchRule ONLY_GRPC_HTTP_AND_TLS_USE_GRPCS_INTERNAL_APIS =
      noClasses()
          .that()
          .resideInAPackage("build.hearth..")
          .and()
          .resideOutsideOfPackages("build.hearth.grpc.http..", "build.hearth.grpc.tls..")
          .should()
          .dependOnClassesThat(
              JavaClass.Predicates.resideInAPackage("io.grpc..")
                  .and(JavaClass.Predicates.simpleNameStartingWith("Internal"))
                  .or(JavaClass.Predicates.resideInAPackage("io.grpc.internal..")))
          .because(
              "grpc-java's @Internal APIs may change in any release: grpc.http, the shared port's"
                  + " HTTP side, and grpc.tls, its TLS handshake, are the only places that use"
                  + " them");

  static final ArchRule GRPC_TLS_USES_NO_SERVICE =
      noClasses()
          .that()
          .resideInAPackage("build.hearth.grpc.tls..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              GRPC_TRANSPORT,
              "build.hearth.grpc.reapi..",
              "build.hearth.grpc.bytestream..",
              "build.hearth.grpc.http..",
              "build.hearth.grpc.workerapi..")
          .because(
              "grpc.tls secures the port and reads PEM files for servers and clients alike: the"
                  + " transport assembles it with the shared port's negotiator, and it needs none of"
                  + " the services");

  static final ArchRule CORE_SANDBOX_SITS_ON_CONFIG_AND_PROCESS =
      noClasses()
          .that()
          .resideInAPackage("build.hearth.core.sandbox..")
          .should()
          .dependOnClassesThat(
              JavaClass.Predicates.resideInAPackage(CORE)
                  .and(
                      JavaClass.Predicates.resideOutsideOfPackages(
                          "build.hearth.core.sandbox..",
                          "build.hearth.core.config..",
                          "build.hearth.core.internal..",
                          "build.hearth.core.process..")))
          .because(
              "core.sandbox confines processes for the worker's runners: it sits on api, spi,"
                  + " core.config, core.internal and core.process only, never on the worker,"
                  + " execution, scheduler or exec roots above it");

  static final ArchRule WEB_READS_THE_MODEL_ONLY =
      noClasses()
          .that()
          .resideInAPackage(WEB)
          .should()
          .dependOnClassesThat(
              JavaClass.Predicates.resideInAnyPackage(
                      GRPC, AGENT, SERVER, "io.grpc..", "io.netty..", "com.fasterxml.jackson..")
                  .or(
                      JavaClass.Predicates.resideInAPackage(CORE)
                          .and(
                              JavaClass.Predicates.resideOutsideOfPackages(
                                  "build.hearth.core.execution..",
                                  "build.hearth.core.ops..",
                                  "build.hearth.core.scheduler.."))))
          .because(
              "the web UI is a page on the HTTP side of the port: it reads the same model as /admin"
                  + " (core.ops, core.scheduler) and hears executions (core.execution), and reaches"
                  + " the rest through api and spi; it never touches a transport or the server");

  static final ArchRule ONLY_THE_SERVER_USES_THE_WEB_UI =
      noClasses()
          .that()
          .resideOutsideOfPackages(WEB, SERVER)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(WEB)
          .because(
              "the server assembles the web UI beside the transports; the engine and the"
                  + " transports must not depend on its pages");

  static final ArchRule CORE_INTERNAL_ONLY_WHERE_EXPORTED =
      noClasses()
          .that()
          .resideOutsideOfPackages(CORE, GRPC, AGENT, SERVER)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(CORE_INTERNAL)
          .because(
              "core.internal is exported only to Hearth's own grpc, agent and server modules"
                  + " (module-info), never to embedders or plugins");

  static final ArchRule SCHEDULER_STATE_KNOWS_NO_WORKERS_OR_TRANSPORTS =
      noClasses()
          .that()
          .resideInAPackage("build.hearth.spi.scheduler..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "build.hearth.spi.worker..",
              "build.hearth.spi.transport..",
              "build.hearth.spi.security..",
              "build.bazel..")
          .because(
              "the scheduler state holds facts as opaque bytes (tasks, responses): it never parses"
                  + " REAPI messages nor knows how workers or clients are connected, so a state"
                  + " plugin stays small and the connections stay in the server that holds them");

  static final ArchRule SPI_INTERNAL_STAYS_IN_SPI =
      noClasses()
          .that()
          .resideOutsideOfPackage(SPI)
          .should()
          .dependOnClassesThat()
          .resideInAPackage(SPI_INTERNAL)
          .because("spi.internal is what the spi's registries share and is not exported");

  static final ArchRule NO_PACKAGE_CYCLES =
      slices()
          .matching("build.hearth.(**)")
          .should()
          .beFreeOfCycles()
          .because(
              "dependencies between packages point one way, in every module, so each package can"
                  + " be read and tested without the ones above it");

  /** Every rule, in the order a reader meets the layers. */
  static final List<ArchRule> ALL =
      List.of(
          API_AND_SPI_ARE_FREE_OF_GRPC_NETTY_AND_JACKSON,
          API_IS_THE_BOTTOM,
          SPI_SITS_ON_API_ONLY,
          TESTING_SITS_ON_API_AND_SPI,
          STORAGE_SUITES_BRING_NO_GRPC,
          REDIS_IS_A_PLUGIN_ON_API_AND_SPI,
          ONLY_THE_SERVER_BUNDLES_REDIS,
          CORE_NEVER_REACHES_A_TRANSPORT,
          GRPC_NEVER_REACHES_UP,
          AGENT_NEVER_IMPORTS_THE_SERVER_SIDE,
          GRPC_SERVICES_USE_ONLY_COMMON,
          GRPC_COMMON_IS_BELOW_THE_SERVICES,
          GRPC_SECURITY_SITS_BELOW_THE_SERVICES,
          CREDENTIALS_ARE_CHECKED_ONLY_AT_THE_EDGE,
          ONLY_GRPC_HTTP_AND_TLS_USE_GRPCS_INTERNAL_APIS,
          GRPC_TLS_USES_NO_SERVICE,
          CORE_SANDBOX_SITS_ON_CONFIG_AND_PROCESS,
          WEB_READS_THE_MODEL_ONLY,
          ONLY_THE_SERVER_USES_THE_WEB_UI,
          CORE_INTERNAL_ONLY_WHERE_EXPORTED,
          SCHEDULER_STATE_KNOWS_NO_WORKERS_OR_TRANSPORTS,
          SPI_INTERNAL_STAYS_IN_SPI,
          NO_PACKAGE_CYCLES);

  /**
   * Hearth's production classes: every module's main classes (from their jars or class directories,
   * whichever the build put on the class path), no test classes.
   */
  static JavaClasses productionClasses() {
    return new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("build.hearth");
  }

  private static String[] concat(String[] first, String... more) {
    String[] all = new String[first.length + more.length];
    System.arraycopy(first, 0, all, 0, first.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }
}
