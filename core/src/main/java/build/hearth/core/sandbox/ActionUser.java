package build.hearth.core.sandbox;

import build.hearth.api.HearthException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The unprivileged user and group a root worker runs actions as, resolved once at start through the
 * system's user database ({@code getent}, so NSS sources count). Immutable.
 *
 * @param name the user's name as configured
 * @param uid its user id
 * @param gid the configured group's id, or the user's primary group's
 * @param user the user, for changing the owner of an exec root's directories
 * @param group the group, likewise
 */
public record ActionUser(String name, int uid, int gid, UserPrincipal user, GroupPrincipal group) {

  /**
   * Looks up {@code user} (a name or a number) and {@code group} (a name, a number, or empty for
   * the user's primary group).
   *
   * @throws HearthException FAILED_PRECONDITION naming the field when the user or group does not
   *     exist
   */
  static ActionUser resolve(String user, String group) {
    Optional<String[]> passwd = getent("passwd", user);
    int uid;
    int primaryGid;
    if (passwd.isPresent()) {
      uid = Integer.parseInt(passwd.get()[2]);
      primaryGid = Integer.parseInt(passwd.get()[3]);
    } else if (user.matches("[0-9]{1,9}")) {
      uid = Integer.parseInt(user);
      primaryGid = uid;
    } else {
      throw HearthException.failedPrecondition(
          "sandbox.user \"%s\" does not exist on this machine; create it, or name an existing"
              + " unprivileged user (the default is \"nobody\")",
          user);
    }
    int gid = primaryGid;
    if (!group.isEmpty()) {
      Optional<String[]> entry = getent("group", group);
      if (entry.isPresent()) {
        gid = Integer.parseInt(entry.get()[2]);
      } else if (group.matches("[0-9]{1,9}")) {
        gid = Integer.parseInt(group);
      } else {
        throw HearthException.failedPrecondition(
            "sandbox.group \"%s\" does not exist on this machine; create it, name an existing"
                + " group, or leave it out for the user's own group",
            group);
      }
    }
    if (uid == 0) {
      throw HearthException.failedPrecondition(
          "sandbox.user \"%s\" is root; name an unprivileged user (the default is \"nobody\")",
          user);
    }
    UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
    try {
      // The JDK accepts the numbers where no name exists.
      return new ActionUser(
          user,
          uid,
          gid,
          lookup.lookupPrincipalByName(Integer.toString(uid)),
          lookup.lookupPrincipalByGroupName(Integer.toString(gid)));
    } catch (IOException e) {
      throw HearthException.failedPrecondition(
          "cannot look up sandbox.user \"%s\" (%d:%d): %s", user, uid, gid, e.getMessage());
    }
  }

  private static Optional<String[]> getent(String database, String key) {
    try {
      Process process =
          new ProcessBuilder("getent", database, key)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      process.getOutputStream().close();
      String line = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Optional.empty();
      }
      String[] fields = line.trim().split(":", -1);
      return process.exitValue() == 0 && fields.length >= 3
          ? Optional.of(fields)
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return name + " (" + uid + ":" + gid + ")";
  }
}
