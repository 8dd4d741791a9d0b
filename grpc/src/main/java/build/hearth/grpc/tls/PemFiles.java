package build.hearth.grpc.tls;

import build.hearth.api.HearthException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificates and PKCS#8 private keys with checks of its own, so that every problem is
 * reported in words that name the file and say what to do: a missing or unreadable file, a file
 * without a certificate, a key in another format (with the {@code openssl} command that converts
 * it), a key that belongs to another certificate. The JDK's and Netty's own parsers report most of
 * these as a bare "invalid key spec" or not at all.
 *
 * <p>Shared by the server's TLS and by Hearth's clients ({@code hearth worker}, {@code hearth
 * admin}). Every failure is a {@link HearthException} with status FAILED_PRECONDITION. Stateless
 * and thread-safe.
 */
public final class PemFiles {
  /** PEM files of certificates and keys are a few kilobytes; a CA bundle at most a few hundred. */
  static final int MAX_FILE_BYTES = 1 << 20;

  private static final Pattern BLOCK =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----", Pattern.DOTALL);

  private PemFiles() {}

  /**
   * Reads the certificates of a PEM file, in the file's order.
   *
   * @param file the file
   * @param what what the file is, for messages: "certificate chain", "client CA bundle"
   * @return at least one certificate
   * @throws HearthException FAILED_PRECONDITION naming the file when it cannot be read or holds no
   *     valid certificate
   */
  public static List<X509Certificate> certificates(Path file, String what) {
    return certificates(file, what, read(file, what));
  }

  /**
   * Reads the private key of a PEM PKCS#8 file ({@code -----BEGIN PRIVATE KEY-----}), RSA or EC.
   *
   * @param file the file
   * @return the key
   * @throws HearthException FAILED_PRECONDITION naming the file when it cannot be read or holds no
   *     unencrypted PKCS#8 RSA or EC key; for PKCS#1 or SEC1 keys the message shows the {@code
   *     openssl pkcs8} command that converts them
   */
  public static PrivateKey privateKey(Path file) {
    return privateKey(file, read(file, "private key"));
  }

  /**
   * Checks that {@code key} belongs to {@code certificate} by signing with one and verifying with
   * the other, which works alike for RSA and EC.
   *
   * @param key the private key
   * @param certificate the certificate the key should belong to
   * @param keyFile the key's file, for the message
   * @param certificateFile the certificate's file, for the message
   * @throws HearthException FAILED_PRECONDITION when the key is not the certificate's
   */
  public static void checkKeyMatches(
      PrivateKey key, X509Certificate certificate, Path keyFile, Path certificateFile) {
    PublicKey publicKey = certificate.getPublicKey();
    boolean matches;
    if (!publicKey.getAlgorithm().equals(key.getAlgorithm())) {
      matches = false;
    } else {
      try {
        String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(challenge);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(publicKey);
        verifier.update(challenge);
        matches = verifier.verify(signature);
      } catch (GeneralSecurityException e) {
        matches = false;
      }
    }
    if (!matches) {
      throw fail(
          keyFile,
          "private key",
          "it does not belong to the certificate "
              + certificate.getSubjectX500Principal().getName()
              + " at the start of "
              + certificateFile
              + " (a "
              + key.getAlgorithm()
              + " key for a "
              + publicKey.getAlgorithm()
              + " certificate"
              + (key.getAlgorithm().equals(publicKey.getAlgorithm()) ? ", but another pair" : "")
              + "); give the key that was made with that certificate, or the certificate of this"
              + " key");
    }
  }

  /** Reads a file of at most {@link #MAX_FILE_BYTES}, with messages that name it. */
  static byte[] read(Path file, String what) {
    try {
      if (Files.isDirectory(file)) {
        throw fail(file, what, "it is a directory, not a PEM file");
      }
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw fail(file, what, "it is larger than 1 MiB, too large for a PEM file");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw fail(file, what, "no such file");
    } catch (AccessDeniedException e) {
      throw fail(file, what, "permission denied; the server's user must be able to read it");
    } catch (IOException e) {
      throw fail(file, what, "it cannot be read: " + e);
    }
  }

  static List<X509Certificate> certificates(Path file, String what, byte[] bytes) {
    List<X509Certificate> certificates = new ArrayList<>();
    boolean sawKey = false;
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("this JVM cannot read X.509 certificates", e);
    }
    Matcher block = BLOCK.matcher(text(bytes));
    while (block.find()) {
      String type = block.group(1);
      if (type.endsWith("PRIVATE KEY")) {
        sawKey = true;
      }
      if (!type.equals("CERTIFICATE")) {
        continue;
      }
      int index = certificates.size() + 1;
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(block.group(2));
        certificates.add(
            (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
      } catch (IllegalArgumentException | CertificateException e) {
        throw fail(
            file, what, "certificate " + index + " in the file is damaged: " + e.getMessage());
      }
    }
    if (certificates.isEmpty()) {
      throw fail(
          file,
          what,
          sawKey
              ? "it holds a private key but no certificate; is the path of the key given for the"
                  + " certificate?"
              : "no certificate in the file (expected a PEM block \"-----BEGIN CERTIFICATE-----\")");
    }
    return List.copyOf(certificates);
  }

  static PrivateKey privateKey(Path file, byte[] bytes) {
    String what = "private key";
    Matcher block = BLOCK.matcher(text(bytes));
    boolean sawCertificate = false;
    while (block.find()) {
      String type = block.group(1);
      switch (type) {
        case "PRIVATE KEY" -> {
          return pkcs8(file, block.group(2));
        }
        case "RSA PRIVATE KEY", "EC PRIVATE KEY" ->
            throw fail(
                file,
                what,
                "it is a "
                    + (type.startsWith("RSA") ? "PKCS#1 RSA" : "SEC1 EC")
                    + " key (\"-----BEGIN "
                    + type
                    + "-----\"), but a PKCS#8 key (\"-----BEGIN PRIVATE KEY-----\") is needed;"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt -in "
                    + file
                    + " -out "
                    + file
                    + ".pkcs8 and give the new file");
        case "ENCRYPTED PRIVATE KEY" ->
            throw fail(
                file,
                what,
                "it is encrypted with a passphrase, which a server cannot type; decrypt it with:"
                    + " openssl pkcs8 -topk8 -nocrypt -in "
                    + file
                    + " -out "
                    + file
                    + ".pkcs8 (it asks for the passphrase) and give the new file, readable only by"
                    + " the server's user");
        case "CERTIFICATE" -> sawCertificate = true;
        default -> {}
      }
    }
    throw fail(
        file,
        what,
        sawCertificate
            ? "it holds a certificate but no private key; is the path of the certificate given for"
                + " the key?"
            : "no private key in the file (expected a PEM block \"-----BEGIN PRIVATE KEY-----\")");
  }

  private static PrivateKey pkcs8(Path file, String base64) {
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw fail(file, "private key", "the key's PEM block is damaged: " + e.getMessage());
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("RSA", "EC")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException e) {
        // not this algorithm; try the next
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("this JVM has no " + algorithm + " key factory", e);
      }
    }
    throw fail(
        file,
        "private key",
        "it is not an RSA or EC key in PKCS#8 form (other algorithms, such as Ed25519, are not"
            + " supported, and the block may be damaged)");
  }

  private static String text(byte[] bytes) {
    // PEM is ASCII; anything else cannot be part of a block and is ignored like the text around it.
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  static HearthException fail(Path file, String what, String problem) {
    return HearthException.failedPrecondition(
        "%s", "cannot use the TLS " + what + " " + file.toAbsolutePath() + ": " + problem);
  }
}
