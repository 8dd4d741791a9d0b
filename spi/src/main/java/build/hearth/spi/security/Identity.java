package build.hearth.spi.security;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Who a caller is, as the access control established it. The {@link #name()} is what policies
 * match: {@code token:<name>}, {@code certificate:<subject DN in RFC 2253 form>}, {@code jwt:<claim
 * value>}, {@code loopback} or {@code anonymous}. A certificate identity also answers to its
 * subject alternative names ({@code san:<value>}), listed in {@link #alternativeNames()}.
 *
 * <p>Immutable and thread-safe. Never carries a secret: tokens and keys stay in the access control.
 *
 * <pre>{@code
 * Identity ci = Identity.of(Identity.Kind.TOKEN, "token:ci", List.of());
 * }</pre>
 */
public final class Identity {
  /** How an identity was established. */
  public enum Kind {
    /** A bearer token the server knows by name. */
    TOKEN,
    /** A TLS client certificate the TLS layer verified. */
    CERTIFICATE,
    /** A signed JWT whose signature and claims were checked. */
    JWT,
    /** No credentials, from a loopback address the configuration trusts. */
    LOOPBACK,
    /** No credentials at all. */
    ANONYMOUS
  }

  private static final Identity ANONYMOUS = new Identity(Kind.ANONYMOUS, "anonymous", List.of());
  private static final Identity LOOPBACK = new Identity(Kind.LOOPBACK, "loopback", List.of());

  private final Kind kind;
  private final String name;
  private final List<String> alternativeNames;

  private Identity(Kind kind, String name, List<String> alternativeNames) {
    this.kind = kind;
    this.name = name;
    this.alternativeNames = alternativeNames;
  }

  /**
   * {@return an identity}
   *
   * @param kind how it was established
   * @param name the name policies match, such as {@code token:ci}
   * @param alternativeNames further names of the same caller, such as {@code san:build.example};
   *     copied
   * @throws NullPointerException if an argument or a name is null
   * @throws IllegalArgumentException if {@code name} is empty
   */
  public static Identity of(Kind kind, String name, List<String> alternativeNames) {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("an identity's name must not be empty");
    }
    return new Identity(kind, name, List.copyOf(alternativeNames));
  }

  /** {@return the caller that presented no credentials, named {@code anonymous}} */
  public static Identity anonymous() {
    return ANONYMOUS;
  }

  /** {@return an unauthenticated caller on a trusted loopback address, named {@code loopback}} */
  public static Identity loopback() {
    return LOOPBACK;
  }

  /** {@return how this identity was established} */
  public Kind kind() {
    return kind;
  }

  /** {@return the name policies match and logs show, such as {@code token:ci}} */
  public String name() {
    return name;
  }

  /** {@return the other names of the same caller, such as {@code san:...}; unmodifiable} */
  public List<String> alternativeNames() {
    return alternativeNames;
  }

  /** {@return the name, then the alternative names; unmodifiable} */
  public List<String> names() {
    List<String> all = new ArrayList<>(1 + alternativeNames.size());
    all.add(name);
    all.addAll(alternativeNames);
    return Collections.unmodifiableList(all);
  }

  /** {@return true unless this is {@link #anonymous()}} */
  public boolean hasCredentials() {
    return kind != Kind.ANONYMOUS;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Identity that
        && kind == that.kind
        && name.equals(that.name)
        && alternativeNames.equals(that.alternativeNames);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, name, alternativeNames);
  }

  /** {@return the name, as logs show it} */
  @Override
  public String toString() {
    return name;
  }
}
