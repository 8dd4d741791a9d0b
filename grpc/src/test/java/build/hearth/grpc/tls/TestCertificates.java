package build.hearth.grpc.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate authorities, server and client certificates made on the spot for tests, and the PEM
 * files Hearth reads: certificates, PKCS#8 keys and, to test the error messages, keys in other
 * formats. Built with BouncyCastle's bcpkix (test scope), so no test depends on files checked in or
 * on {@code openssl}.
 *
 * <pre>{@code
 * TestCertificates.Authority ca = TestCertificates.authority("Test CA");
 * TestCertificates.Issued server = ca.server("localhost", TestCertificates.KeyType.EC);
 * Path chain = server.writeChain(dir.resolve("server.pem"));
 * Path key = server.writeKey(dir.resolve("server.key"));
 * Path caFile = ca.writeCertificate(dir.resolve("ca.pem"));
 * }</pre>
 *
 * <p>Server certificates name {@code localhost} and {@code 127.0.0.1}, so clients that verify the
 * host name accept them on loopback. Exported in the grpc module's {@code tests} jar for other
 * modules' tests. Thread-safe.
 */
public final class TestCertificates {
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
  private static final Duration DEFAULT_VALIDITY = Duration.ofDays(1);

  private TestCertificates() {}

  /** The algorithm of a key. */
  public enum KeyType {
    RSA,
    EC
  }

  /** {@return a new self-signed certificate authority with an EC key, valid for a day} */
  public static Authority authority(String commonName) {
    return authority(commonName, KeyType.EC);
  }

  /** {@return a new self-signed certificate authority, valid for a day} */
  public static Authority authority(String commonName, KeyType type) {
    KeyPair keys = keyPair(type);
    X500Principal subject = new X500Principal("CN=" + commonName + ", O=Hearth tests");
    Instant now = Instant.now();
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  serial(),
                  Date.from(now.minus(Duration.ofMinutes(5))),
                  Date.from(now.plus(DEFAULT_VALIDITY)),
                  subject,
                  keys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  utils.createSubjectKeyIdentifier(keys.getPublic()));
      return new Authority(sign(builder, keys.getPrivate()), keys);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a test CA", e);
    }
  }

  /** A certificate authority that issues certificates. */
  public static final class Authority {
    private final X509Certificate certificate;
    private final KeyPair keys;

    private Authority(X509Certificate certificate, KeyPair keys) {
      this.certificate = certificate;
      this.keys = keys;
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /** {@return a server certificate for localhost and 127.0.0.1, valid from now for a day} */
    public Issued server(String commonName, KeyType type) {
      Instant now = Instant.now();
      return issue(
          commonName, type, now.minus(Duration.ofMinutes(5)), now.plus(DEFAULT_VALIDITY), true);
    }

    /** {@return a client certificate, valid from now for a day} */
    public Issued client(String commonName, KeyType type) {
      Instant now = Instant.now();
      return issue(
          commonName, type, now.minus(Duration.ofMinutes(5)), now.plus(DEFAULT_VALIDITY), false);
    }

    /**
     * {@return a certificate valid from {@code notBefore} to {@code notAfter}, for a server (with
     * localhost and 127.0.0.1 as names) or a client}
     */
    public Issued issue(
        String commonName, KeyType type, Instant notBefore, Instant notAfter, boolean server) {
      KeyPair leafKeys = keyPair(type);
      try {
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder =
            new JcaX509v3CertificateBuilder(
                    certificate,
                    serial(),
                    Date.from(notBefore),
                    Date.from(notAfter),
                    new X500Principal("CN=" + commonName + ", O=Hearth tests"),
                    leafKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                .addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    new ExtendedKeyUsage(
                        server ? KeyPurposeId.id_kp_serverAuth : KeyPurposeId.id_kp_clientAuth))
                .addExtension(
                    Extension.authorityKeyIdentifier,
                    false,
                    utils.createAuthorityKeyIdentifier(certificate))
                .addExtension(
                    Extension.subjectKeyIdentifier,
                    false,
                    utils.createSubjectKeyIdentifier(leafKeys.getPublic()));
        if (server) {
          builder.addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(
                  new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")
                  }));
        } else {
          builder.addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(new GeneralName(GeneralName.dNSName, commonName + ".clients.test")));
        }
        return new Issued(sign(builder, keys.getPrivate()), leafKeys, certificate);
      } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
        throw new IllegalStateException("cannot issue a test certificate", e);
      }
    }

    /** Writes this authority's certificate as PEM, for a CA bundle. */
    public Path writeCertificate(Path file) {
      return writeCertificates(file, certificate);
    }
  }

  /** A certificate, its key pair and the certificate of its issuer. */
  public record Issued(X509Certificate certificate, KeyPair keys, X509Certificate issuer) {
    /** Writes the certificate and then its issuer's, as a server's chain file. */
    public Path writeChain(Path file) {
      return writeCertificates(file, certificate, issuer);
    }

    /** Writes the certificate alone. */
    public Path writeCertificate(Path file) {
      return writeCertificates(file, certificate);
    }

    /** Writes the private key as PEM PKCS#8 ({@code BEGIN PRIVATE KEY}). */
    public Path writeKey(Path file) {
      return writePkcs8(file, keys.getPrivate());
    }

    /**
     * Writes the private key in OpenSSL's traditional form ({@code BEGIN RSA PRIVATE KEY} or {@code
     * BEGIN EC PRIVATE KEY}), which Hearth refuses with advice.
     */
    public Path writeTraditionalKey(Path file) {
      StringWriter text = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
        writer.writeObject(keys.getPrivate());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return write(file, text.toString());
    }
  }

  /** Writes certificates as PEM, in the order given. */
  public static Path writeCertificates(Path file, X509Certificate... certificates) {
    StringBuilder text = new StringBuilder();
    try {
      for (X509Certificate certificate : certificates) {
        text.append(pem("CERTIFICATE", certificate.getEncoded()));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return write(file, text.toString());
  }

  /** Writes a private key as PEM PKCS#8. */
  public static Path writePkcs8(Path file, PrivateKey key) {
    return write(file, pem("PRIVATE KEY", key.getEncoded()));
  }

  /** Concatenates PEM files into one, as a CA bundle of several authorities. */
  public static Path concatenate(Path target, Path... parts) {
    List<String> texts = new ArrayList<>();
    try {
      for (Path part : parts) {
        texts.add(Files.readString(part));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return write(target, String.join("", texts));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /** Writes through a temporary file and a rename, as a careful rotation would. */
  private static Path write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path temp = Files.createTempFile(parent, ".pem-", ".tmp");
      Files.writeString(temp, text, StandardCharsets.US_ASCII);
      Files.move(
          temp,
          file,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static KeyPair keyPair(KeyType type) {
    try {
      if (type == KeyType.RSA) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
      }
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
      throws OperatorCreationException, GeneralSecurityException {
    String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }
}
