/**
 * The configuration-driven access control: turns a caller's credentials into an identity (bearer
 * tokens known by their SHA-256, signed JWTs checked with nimbus-jose-jwt, TLS client certificates,
 * trusted loopback) and decides each call's permission from the server's policies. Refusals are
 * logged here, rate-limited and without secrets, and handed on to be counted. Transports reach it
 * only through {@link build.hearth.spi.security.AccessControl}.
 */
package build.hearth.core.security;
