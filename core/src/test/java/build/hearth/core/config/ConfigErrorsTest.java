package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.resource;
import static build.hearth.core.config.ConfigTestSupport.withInstances;
import static build.hearth.core.config.ConfigTestSupport.withServerField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.ConfigException;
import build.hearth.api.StatusCode;
import build.hearth.spi.transport.ServerLimits;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * One test per kind of mistake. Each asserts the exact path and line, and the whole message where
 * its wording matters to the user.
 */
class ConfigErrorsTest {

  // ---- syntax ----

  @Test
  void malformedJsonNamesLineColumnAndWhereInTheDocument() {
    assertThatThrownBy(() -> HearthConfig.parse(resource("malformed.json"), "malformed.json"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.path()).isEqualTo("servers[0]");
              assertThat(e.line()).isEqualTo(8);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "servers[0] (line 8): malformed.json is not valid JSON at line 8, column 7:"
                          + " Unexpected character ('\"'): was expecting comma to separate Object"
                          + " entries");
            });
  }

  @Test
  void unterminatedDocument() {
    ConfigException e = errorOf("{\n  \"servers\": [\n");

    assertThat(e.path()).isEqualTo("servers");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("test.json is not valid JSON at line 3");
  }

  @Test
  void emptyDocument() {
    ConfigException e = errorOf("  // nothing but a comment\n");

    assertThat(e.path()).isEmpty();
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.getMessage()).startsWith("(root) (line 1): test.json is empty;");
  }

  @Test
  void topLevelMustBeAnObject() {
    ConfigException e = errorOf("\n[1, 2]");

    assertThat(e.path()).isEmpty();
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo(
            "(root) (line 2): expected a JSON object at the top of test.json, found an array");
  }

  @Test
  void contentAfterTheDocument() {
    ConfigException e = errorOf(withInstances("{ \"\": { \"cas\": \"cas\" } }") + "{}\n");

    assertThat(e.path()).isEmpty();
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage()).contains("unexpected content after the end of the top-level object");
  }

  @Test
  void duplicateKey() {
    ConfigException e =
        errorOf(
            withInstances(
                """
                {
                        "": { "cas": "cas",
                              "cas": "cas" }
                      }"""));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".cas");
    assertThat(e.line()).isEqualTo(9);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.\"\".cas (line 9): duplicate field 'cas'; it is already set at"
                + " line 8. Remove one of them.");
  }

  @Test
  void integerTooLargeForALong() {
    ConfigException e = errorOf(withServerField("maxBatchSize", "123456789012345678901234567890"));

    assertThat(e.path()).isEqualTo("servers[0].maxBatchSize");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage()).contains("is too large; whole numbers must fit in 64 bits");
  }

  // ---- unknown fields ----

  @Test
  void unknownTopLevelFieldListsTheKnownOnes() {
    ConfigException e = errorOf("{\n  \"blobStores\": {},\n  \"scheduler\": {}\n}");

    assertThat(e.path()).isEqualTo("scheduler");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .isEqualTo(
            "scheduler (line 3): unknown field 'scheduler'; did you mean 'schedulers'? Known"
                + " fields here: blobStores, actionCacheStores, schedulers, servers, workers,"
                + " metrics, web");
  }

  @Test
  void unknownServerFieldSuggestsTheClosestKnownOne() {
    ConfigException e = errorOf(resource("unknown-server-field.json"));

    assertThat(e.path()).isEqualTo("servers[0].lisen");
    assertThat(e.line()).isEqualTo(5);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].lisen (line 5): unknown field 'lisen'; did you mean 'listen'? Known fields"
                + " here: name, listen, maxBatchSize, instances, workerApi, transport,"
                + " authentication, permissions, insecureAllowUnauthenticated, tls, limits");
  }

  @Test
  void unknownInstanceField() {
    ConfigException e =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"ActionCache\": \"ac\" } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".ActionCache");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage())
        .endsWith(
            "unknown field 'ActionCache'; did you mean 'actionCache'? Known fields here: cas,"
                + " actionCache, actionCacheUpdates, execution, maxDirectorySize, maxTreeSize");
  }

  // ---- wrong types ----

  @Test
  void numberWhereAStringBelongs() {
    ConfigException e = errorOf(withServerField("listen", "5"));

    assertThat(e.path()).isEqualTo("servers[0].listen");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .isEqualTo("servers[0].listen (line 6): expected a string, found the number 5");
  }

  @Test
  void stringWhereABooleanBelongs() {
    ConfigException e =
        errorOf(
            withInstances(
                "{ \"\": { \"cas\": \"cas\", \"actionCache\": \"ac\", \"actionCacheUpdates\":"
                    + " \"yes\" } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".actionCacheUpdates");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).endsWith("expected true or false, found the string \"yes\"");
  }

  @Test
  void objectWhereAnArrayBelongs() {
    ConfigException e = errorOf("{\n  \"servers\": { \"listen\": \"127.0.0.1:0\" }\n}");

    assertThat(e.path()).isEqualTo("servers");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .isEqualTo("servers (line 2): expected an array of server objects, found an object");
  }

  @Test
  void arrayWhereTheStoresBelong() {
    ConfigException e = errorOf("{\n  \"blobStores\": [ { \"type\": \"memory\" } ]\n}");

    assertThat(e.path()).isEqualTo("blobStores");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage())
        .endsWith("expected an object mapping blob store names to their settings, found an array");
  }

  @Test
  void nullIsNotAString() {
    ConfigException e = errorOf(withInstances("{ \"\": { \"cas\": null } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".cas");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).endsWith("expected a string, found null");
  }

  @Test
  void storeTypeMustBeAString() {
    ConfigException e =
        errorOf("{\n  \"blobStores\": {\n    \"cas\": { \"type\": [\"memory\"] }\n  }\n}");

    assertThat(e.path()).isEqualTo("blobStores.cas.type");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).endsWith("expected a string, found an array");
  }

  @Test
  void storeMustBeAnObject() {
    ConfigException e = errorOf("{\n  \"actionCacheStores\": {\n    \"ac\": \"memory\"\n  }\n}");

    assertThat(e.path()).isEqualTo("actionCacheStores.ac");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .endsWith(
            "expected a store object such as {\"type\": \"memory\"}, found the string \"memory\"");
  }

  // ---- missing required fields ----

  @Test
  void missingServers() {
    ConfigException e = errorOf("{\n  \"blobStores\": {}\n}");

    assertThat(e.path()).isEqualTo("servers");
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.getMessage())
        .startsWith(
            "servers (line 1): missing required field 'servers'; a configuration needs at least"
                + " one server");
  }

  @Test
  void missingStoreType() {
    ConfigException e =
        errorOf("{\n  \"blobStores\": {\n    \"cas\": { \"path\": \"/tmp/cas\" }\n  }\n}");

    assertThat(e.path()).isEqualTo("blobStores.cas.type");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .isEqualTo(
            "blobStores.cas.type (line 3): missing required field 'type'; it names the store's"
                + " provider, such as \"filesystem\" or \"memory\"");
  }

  @Test
  void missingListen() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [
                {
                  "instances": { "": { "cas": "cas" } }
                }
              ]
            }
            """);

    assertThat(e.path()).isEqualTo("servers[0].listen");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("missing required field 'listen'");
  }

  @Test
  void missingInstances() {
    ConfigException e = errorOf("{\n  \"servers\": [\n    { \"listen\": \"127.0.0.1:0\" }\n  ]\n}");

    assertThat(e.path()).isEqualTo("servers[0].instances");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("missing required field 'instances'");
  }

  @Test
  void missingCas() {
    ConfigException e =
        errorOf(withInstances("{\n        \"main\": { \"actionCache\": \"ac\" } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.main.cas");
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.main.cas (line 8): missing required field 'cas'; it names the"
                + " blobStores entry that holds this instance's blobs");
  }

  // ---- dangling references ----

  @Test
  void casNamesAStoreThatIsNotDefined() {
    ConfigException e = errorOf(resource("dangling-cas.json"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".cas");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].instances.\"\".cas (line 12): no blob store named 'cass'; defined: cas");
  }

  @Test
  void actionCacheNamesABlobStore() {
    ConfigException e =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"actionCache\": \"cas\" } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".actionCache");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).endsWith("no action-cache store named 'cas'; defined: ac");
  }

  @Test
  void referenceWhenNoStoresAreDefined() {
    ConfigException e =
        errorOf(
            """
            {
              "servers": [
                { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } }
              ]
            }
            """);

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".cas");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage())
        .endsWith("no blob store named 'cas'; none are defined (add one under \"blobStores\")");
  }

  // ---- bad values ----

  @Test
  void noServers() {
    ConfigException e = errorOf("{\n  \"servers\": [\n  ]\n}");

    assertThat(e.path()).isEqualTo("servers");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("at least one server is required");
  }

  @Test
  void noInstances() {
    ConfigException e =
        errorOf(
            "{\n"
                + "  \"servers\": [\n"
                + "    { \"listen\": \"127.0.0.1:0\",\n"
                + "      \"instances\": {} }\n"
                + "  ]\n"
                + "}");

    assertThat(e.path()).isEqualTo("servers[0].instances");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage()).contains("a server needs at least one instance");
  }

  @Test
  void emptyStoreName() {
    ConfigException e =
        errorOf("{\n  \"blobStores\": {\n    \"\": { \"type\": \"memory\" }\n  }\n}");

    assertThat(e.path()).isEqualTo("blobStores.\"\"");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).endsWith("store names must not be empty");
  }

  @Test
  void emptyStoreType() {
    ConfigException e = errorOf("{\n  \"blobStores\": {\n    \"cas\": { \"type\": \"\" }\n  }\n}");

    assertThat(e.path()).isEqualTo("blobStores.cas.type");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).contains("the type must not be empty");
  }

  @Test
  void nullStoreSetting() {
    ConfigException e =
        errorOf(
            "{\n  \"blobStores\": {\n    \"cas\": { \"type\": \"memory\",\n"
                + "      \"maxSize\": null }\n  }\n}");

    assertThat(e.path()).isEqualTo("blobStores.cas.maxSize");
    assertThat(e.line()).isEqualTo(4);
    assertThat(e.getMessage())
        .endsWith("null is not allowed; leave the field out to use its default");
  }

  @Test
  void nullNestedInAStoreSetting() {
    ConfigException e =
        errorOf(
            "{\n"
                + "  \"blobStores\": {\n"
                + "    \"x\": { \"type\": \"t\", \"hosts\": [\"a\",\n"
                + " null] }\n"
                + "  }\n"
                + "}");

    assertThat(e.path()).isEqualTo("blobStores.x.hosts[1]");
    assertThat(e.line()).isEqualTo(4);
  }

  @Test
  void emptyServerName() {
    ConfigException e = errorOf(withServerField("name", "\"\""));

    assertThat(e.path()).isEqualTo("servers[0].name");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage()).contains("a server name must not be empty");
  }

  @Test
  void duplicateServerName() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [
                { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } },
                { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } },
                  "name": "server-0" }
              ]
            }
            """);

    assertThat(e.path()).isEqualTo("servers[1].name");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .endsWith(
            "the server name 'server-0' is already used by servers[0] (line 4); names must be"
                + " unique");
  }

  @Test
  void twoServersOnOneAddress() {
    ConfigException e = errorOf(resource("duplicate-listen.json"));

    assertThat(e.path()).isEqualTo("servers[1].listen");
    assertThat(e.line()).isEqualTo(11);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[1].listen (line 11): servers[0] (line 4) already listens on"
                + " 127.0.0.1:50052; give each server its own port, or port 0 for any free one");
  }

  @Test
  void aLimitBelowOneNamesItsFieldPath() {
    ConfigException e = errorOf(withServerField("limits", "{ \"maxUploadSessionsPerClient\": 0 }"));

    assertThat(e.path()).isEqualTo("servers[0].limits.maxUploadSessionsPerClient");
    assertThat(e.getMessage()).endsWith("must be at least 1, found the number 0");
  }

  @Test
  void limitsAreReadWithDefaultsForWhatTheFileLeavesOut() {
    HearthConfig config =
        HearthConfig.parse(
            withServerField(
                "limits",
                "{ \"maxUploadSessionsPerClient\": 50, \"uploadStallTimeout\": \"15s\" }"),
            "t");

    assertThat(config.servers().get(0).limits())
        .isEqualTo(
            ServerLimits.newBuilder()
                .maxUploadSessionsPerClient(50)
                .uploadStallTimeout(Duration.ofSeconds(15))
                .build());
  }

  @Test
  void theTransportLimitsOfIssue15AreRead() {
    HearthConfig config =
        HearthConfig.parse(
            withServerField(
                "limits",
                "{ \"writeLookaheadBytes\": \"256KiB\", \"maxWriteLookaheadBytes\": \"8MiB\","
                    + " \"readStallTimeout\": \"10s\", \"maxConnectionAge\": \"15m\","
                    + " \"maxConnectionAgeGrace\": \"30s\" }"),
            "t");

    assertThat(config.servers().get(0).limits())
        .isEqualTo(
            ServerLimits.newBuilder()
                .writeLookaheadBytes(256 << 10)
                .maxWriteLookaheadBytes(8 << 20)
                .readStallTimeout(Duration.ofSeconds(10))
                .maxConnectionAge(Optional.of(Duration.ofMinutes(15)))
                .maxConnectionAgeGrace(Duration.ofSeconds(30))
                .build());
  }

  @Test
  void maxConnectionAgeOffIsNoAge() {
    HearthConfig config =
        HearthConfig.parse(withServerField("limits", "{ \"maxConnectionAge\": \"off\" }"), "t");

    assertThat(config.servers().get(0).limits().maxConnectionAge()).isEmpty();
  }

  @Test
  void aZeroWriteLookaheadNamesItsFieldPath() {
    ConfigException e = errorOf(withServerField("limits", "{ \"writeLookaheadBytes\": 0 }"));

    assertThat(e.path()).isEqualTo("servers[0].limits.writeLookaheadBytes");
    assertThat(e.getMessage()).contains("must be at least 1 byte");
  }

  @Test
  void aZeroReadStallTimeoutNamesItsFieldPath() {
    ConfigException e = errorOf(withServerField("limits", "{ \"readStallTimeout\": \"0s\" }"));

    assertThat(e.path()).isEqualTo("servers[0].limits.readStallTimeout");
    assertThat(e.getMessage()).contains("must be longer than zero");
  }

  @Test
  void aMaxConnectionAgeThatIsNeitherADurationNorOffNamesItsFieldPath() {
    ConfigException e = errorOf(withServerField("limits", "{ \"maxConnectionAge\": \"never\" }"));

    assertThat(e.path()).isEqualTo("servers[0].limits.maxConnectionAge");
    assertThat(e.getMessage()).contains("\"off\"");
  }

  @Test
  void batchSizeOverTheLimit() {
    ConfigException e = errorOf(withServerField("maxBatchSize", "\"128MiB\""));

    assertThat(e.path()).isEqualTo("servers[0].maxBatchSize");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage())
        .isEqualTo(
            "servers[0].maxBatchSize (line 6): must be at most 64MiB (67108864 bytes), found the"
                + " string \"128MiB\" (134217728 bytes); larger blobs go through ByteStream"
                + " anyway");
  }

  @Test
  void actionCacheUpdatesWithoutAnActionCache() {
    ConfigException e =
        errorOf(withInstances("{ \"\": { \"cas\": \"cas\", \"actionCacheUpdates\": false } }"));

    assertThat(e.path()).isEqualTo("servers[0].instances.\"\".actionCacheUpdates");
    assertThat(e.line()).isEqualTo(7);
    assertThat(e.getMessage()).contains("has no effect without \"actionCache\"");
  }
}
