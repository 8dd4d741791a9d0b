package build.hearth.core.security;

import build.hearth.api.ConfigException;
import build.hearth.core.config.AccessConfig;
import build.hearth.core.config.HearthConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Configurations and certificates for the access-control tests. */
final class SecurityTestSupport {
  private SecurityTestSupport() {}

  /** The access configuration of a loopback server with {@code fields} (JSON members). */
  static AccessConfig access(String fields) {
    String json =
        """
        {
          "blobStores": { "cas": { "type": "memory" } },
          "servers": [ { "listen": "127.0.0.1:0", "instances": { "": { "cas": "cas" } }%s } ]
        }
        """
            .formatted(fields.isEmpty() ? "" : ",\n" + fields);
    return HearthConfig.parse(json, "test.json").servers().get(0).access();
  }

  /** JSON text for a path, with backslashes escaped. */
  static String json(Path path) {
    return "\"" + path.toAbsolutePath().toString().replace("\\", "\\\\") + "\"";
  }

  static ConfigException configError(Runnable build) {
    try {
      build.run();
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException");
  }

  /**
   * A self-signed certificate made by the JDK's {@code keytool}, with {@code dname} as its subject
   * and {@code san} (such as {@code dns:worker-1.example,ip:10.0.0.5}) as its alternative names.
   */
  static X509Certificate certificate(Path dir, String dname, String san)
      throws IOException, InterruptedException {
    Path store = dir.resolve("cert-" + System.nanoTime() + ".p12");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "peer",
                "-keyalg",
                "EC",
                "-dname",
                dname,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                "changeit"));
    if (!san.isEmpty()) {
      command.addAll(List.of("-ext", "SAN=" + san));
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    try (InputStream in = Files.newInputStream(store)) {
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(in, "changeit".toCharArray());
      return (X509Certificate) keyStore.getCertificate("peer");
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }
}
