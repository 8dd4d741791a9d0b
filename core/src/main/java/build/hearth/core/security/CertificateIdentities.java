package build.hearth.core.security;

import build.hearth.spi.security.Identity;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * The identity of a TLS client certificate the TLS layer verified: {@code certificate:<subject DN
 * in RFC 2253 form>}, also known by each subject alternative name as {@code san:<value>} (DNS
 * names, URIs, IP addresses, e-mail addresses). Stateless.
 */
final class CertificateIdentities {
  private static final int SAN_EMAIL = 1;
  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;
  private static final int SAN_IP = 7;

  private CertificateIdentities() {}

  /** The identity of {@code leaf}, the first certificate of the peer's chain. */
  static Identity of(X509Certificate leaf) {
    String subject = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
    return Identity.of(Identity.Kind.CERTIFICATE, "certificate:" + subject, alternativeNames(leaf));
  }

  static List<String> alternativeNames(X509Certificate certificate) {
    Collection<List<?>> sans;
    try {
      sans = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of(); // a malformed extension names nothing; the subject still does
    }
    List<String> names = new ArrayList<>();
    if (sans == null) {
      return names;
    }
    for (List<?> san : sans) {
      if (san.size() >= 2
          && san.get(0) instanceof Integer type
          && san.get(1) instanceof String value) {
        if (type == SAN_DNS || type == SAN_URI || type == SAN_IP || type == SAN_EMAIL) {
          names.add("san:" + value);
        }
      }
    }
    return names;
  }
}
