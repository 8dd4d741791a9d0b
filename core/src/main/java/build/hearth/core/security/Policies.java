package build.hearth.core.security;

import build.hearth.core.config.AccessConfig.Policy;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.Permission;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code permissions} policies of a server, compiled: an identity holds a permission on an
 * instance if some policy matches one of its names and the instance (server-wide permissions ignore
 * the instance patterns) and grants it. Immutable and thread-safe.
 */
final class Policies {
  private record Compiled(
      List<Glob> identities, Optional<List<Glob>> instances, Set<Permission> grant) {
    boolean grants(Identity identity, Permission permission, String instance) {
      if (!grant.contains(permission)) {
        return false;
      }
      if (!permission.serverWide()
          && instances.isPresent()
          && instances.get().stream().noneMatch(glob -> glob.matches(instance))) {
        return false;
      }
      for (String name : identity.names()) {
        for (Glob glob : identities) {
          if (glob.matches(name)) {
            return true;
          }
        }
      }
      return false;
    }
  }

  private final List<Compiled> policies;

  Policies(List<Policy> policies) {
    this.policies =
        policies.stream()
            .map(
                p ->
                    new Compiled(
                        p.identities().stream().map(Glob::of).toList(),
                        p.instances().map(list -> list.stream().map(Glob::of).toList()),
                        p.grant()))
            .toList();
  }

  boolean grants(Identity identity, Permission permission, String instance) {
    for (Compiled policy : policies) {
      if (policy.grants(identity, permission, instance)) {
        return true;
      }
    }
    return false;
  }
}
