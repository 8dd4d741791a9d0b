package build.hearth.core.config;

import static build.hearth.core.config.ConfigTestSupport.errorOf;
import static build.hearth.core.config.ConfigTestSupport.withInstances;
import static build.hearth.core.config.ConfigTestSupport.withServerField;
import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The rules for single values: listen addresses, batch sizes and instance names. */
class ConfigValuesTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "127.0.0.1:50052 | 127.0.0.1   | 50052",
        "0.0.0.0:0       | 0.0.0.0     | 0",
        "localhost:65535 | localhost   | 65535",
        "build-cache.example.com:8980 | build-cache.example.com | 8980",
        "[::1]:50052     | ::1         | 50052",
        "[::]:1          | ::          | 1",
        "[fe80::1%eth0]:9 | fe80::1%eth0 | 9",
      })
  void listenAddressesThatParse(String listen, String host, int port) {
    // Off loopback a server must authenticate or opt out; this test is about the address alone.
    ServerConfig server =
        HearthConfig.parse(
                withServerField(
                    "listen", "\"" + listen + "\", \"insecureAllowUnauthenticated\": true"),
                "t")
            .servers()
            .get(0);

    assertThat(server.host()).isEqualTo(host);
    assertThat(server.port()).isEqualTo(port);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "127.0.0.1        | the port is missing in \"127.0.0.1\"",
        "127.0.0.1:       | the port must be a number from 0 to 65535 (0 picks any free port),"
            + " found \"\"",
        "127.0.0.1:65536  | the port must be a number from 0 to 65535 (0 picks any free port),"
            + " found \"65536\"",
        "127.0.0.1:-1     | the port must be a number from 0 to 65535",
        "127.0.0.1:http   | the port must be a number from 0 to 65535",
        ":50052           | the host is missing in \":50052\"; use 0.0.0.0 for every interface",
        "::1:50052        | an IPv6 address goes in brackets, as in \"[::1]:50052\"",
        "[::1]            | the port is missing after ']'",
        "[::1:50052       | the IPv6 address has no closing ']'",
        "[localhost]:1    | 'localhost' in brackets is not an IPv6 address",
        "my host:1        | 'my host' is not a host name or IP address",
      })
  void listenAddressesThatDoNot(String listen, String problem) {
    ConfigException e = errorOf(withServerField("listen", "\"" + listen + "\""));

    assertThat(e.path()).isEqualTo("servers[0].listen");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage()).startsWith("servers[0].listen (line 6): " + problem);
  }

  @Test
  void serversOnPortZeroMayShareAHost() {
    HearthConfig config =
        HearthConfig.parse(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [
                { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } },
                { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } } },
                { "listen": "127.0.0.1:50052", "instances": { "": { "cas": "cas" } } },
                { "listen": "127.0.0.1:50053", "instances": { "": { "cas": "cas" } } }
              ]
            }
            """,
            "t");

    assertThat(config.servers()).extracting(ServerConfig::port).containsExactly(0, 0, 50052, 50053);
  }

  @Test
  void sameAddressIsCaughtRegardlessOfHostCase() {
    ConfigException e =
        errorOf(
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [
                { "listen": "LocalHost:7000", "instances": { "": { "cas": "cas" } } },
                { "listen": "localhost:7000", "instances": { "": { "cas": "cas" } } }
              ]
            }
            """);

    assertThat(e.path()).isEqualTo("servers[1].listen");
    assertThat(e.line()).isEqualTo(5);
    assertThat(e.getMessage()).contains("servers[0] (line 4) already listens on localhost:7000");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "\"64KiB\"   | 65536",
        "\"4MiB\"    | 4194304",
        "\"64MiB\"   | 67108864",
        "\"1 mib\"   | 1048576",
        "\"100000\"  | 100000",
        "65536       | 65536",
        "\"1MB\"     | 1000000",
      })
  void batchSizesThatAreAccepted(String json, long bytes) {
    ServerConfig server =
        HearthConfig.parse(withServerField("maxBatchSize", json), "t").servers().get(0);

    assertThat(server.maxBatchSizeBytes()).isEqualTo(bytes);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "\"1KiB\"   | must be at least 64KiB (65536 bytes), found the string \"1KiB\" (1024 bytes)",
        "65535      | must be at least 64KiB (65536 bytes), found the number 65535 (65535 bytes)",
        "\"128MiB\" | must be at most 64MiB (67108864 bytes), found the string \"128MiB\""
            + " (134217728 bytes)",
        "\"4 MiBs\" | expected a size in bytes such as 4194304 or \"4MiB\", found the string \"4"
            + " MiBs\"",
        "-1         | expected a size in bytes such as 4194304 or \"4MiB\", found the number -1",
        "1.5e6      | expected a size in bytes such as 4194304 or \"4MiB\", found the number 1.5e6",
        "true       | expected a size in bytes such as 4194304 or \"4MiB\", found true",
      })
  void batchSizesThatAreRefused(String json, String problem) {
    ConfigException e = errorOf(withServerField("maxBatchSize", json));

    assertThat(e.path()).isEqualTo("servers[0].maxBatchSize");
    assertThat(e.line()).isEqualTo(6);
    assertThat(e.getMessage()).startsWith("servers[0].maxBatchSize (line 6): " + problem);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "main",
        "projects/acme/instances/default",
        "ci/linux-x86_64",
        "blobs-archive",
        "my.instance",
        "v1..2",
      })
  void instanceNamesThatAreValid(String name) {
    String json = withInstances("{ " + ConfigPaths.quote(name) + ": { \"cas\": \"cas\" } }");

    assertThat(HearthConfig.parse(json, "t").servers().get(0).instances()).containsOnlyKeys(name);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "/main              | \"/main\"              | must not start or end with '/'",
        "main/              | \"main/\"              | must not start or end with '/'",
        "a//b               | \"a//b\"               | must not contain an empty segment ('//')",
        "a/./b              | \"a/./b\"              | must not contain a '.' or '..' segment",
        "..                 | \"..\"                 | must not contain a '.' or '..' segment",
        "blobs              | blobs                  | must not contain the segment 'blobs'",
        "team/uploads       | \"team/uploads\"       | must not contain the segment 'uploads'",
        "a/actions/b        | \"a/actions/b\"        | must not contain the segment 'actions'",
        "actionResults      | actionResults          | must not contain the segment"
            + " 'actionResults'",
        "operations         | operations             | must not contain the segment 'operations'",
        "capabilities       | capabilities           | must not contain the segment 'capabilities'",
        "x/compressed-blobs | \"x/compressed-blobs\" | must not contain the segment"
            + " 'compressed-blobs'",
      })
  void instanceNamesThatAreRefused(String name, String segment, String problem) {
    String json = withInstances("{\n  " + ConfigPaths.quote(name) + ": { \"cas\": \"cas\" } }");

    ConfigException e = errorOf(json);

    assertThat(e.path()).isEqualTo("servers[0].instances." + segment);
    assertThat(e.line()).isEqualTo(8);
    assertThat(e.getMessage()).startsWith(e.path() + " (line 8): an instance name " + problem);
  }

  @Test
  void reservedSegmentsAreListedInTheMessage() {
    ConfigException e = errorOf(withInstances("{ \"blobs\": { \"cas\": \"cas\" } }"));

    assertThat(e.getMessage())
        .endsWith(
            "reserved: actionResults, actions, blobs, capabilities, compressed-blobs, operations,"
                + " uploads");
  }
}
