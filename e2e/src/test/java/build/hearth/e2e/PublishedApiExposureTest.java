package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import build.hearth.api.Digest;
import build.hearth.spi.storage.BlobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rule of the house that embedders and plugin authors rely on: nothing in hearth-api or
 * hearth-spi exposes gRPC, Netty or Jackson, neither through their dependencies nor through any
 * public signature.
 */
class PublishedApiExposureTest {
  private static final List<String> FORBIDDEN_PACKAGES =
      List.of("io.grpc.", "io.netty.", "com.fasterxml.");
  private static final List<String> FORBIDDEN_GROUPS =
      List.of("io.grpc", "io.netty", "com.fasterxml");

  @Test
  void apiAndSpiDependOnNoGrpcNettyOrJacksonArtifacts() throws IOException {
    Path root = E2eDirectories.target().getParent().getParent();
    Path logs = Files.createDirectories(E2eDirectories.target().resolve("published-api"));
    for (String module : List.of("api", "spi")) {
      List<String> artifacts = runtimeDependencies(root, module, logs);
      assertThat(artifacts)
          .as("hearth-%s's runtime dependencies", module)
          .isNotEmpty()
          .noneMatch(
              artifact -> FORBIDDEN_GROUPS.stream().anyMatch(group -> artifact.startsWith(group)));
    }
  }

  @Test
  void noPublicSignatureInApiOrSpiMentionsGrpcNettyOrJackson() {
    List<Class<?>> classes = new ArrayList<>();
    classes.addAll(publicClasses(Digest.class));
    classes.addAll(publicClasses(BlobStore.class));
    assertThat(classes)
        .extracting(Class::getName)
        .contains("build.hearth.api.Digest", "build.hearth.spi.storage.BlobStore");
    assertThat(exposedForbiddenTypes(classes)).isEmpty();
  }

  @Test
  void theSignatureScanFindsAnExposedType() {
    assertThat(exposedForbiddenTypes(List.of(ExposesGrpc.class)))
        .containsExactly(ExposesGrpc.class.getName() + ".status(): io.grpc.Status");
  }

  /** A negative control for the scan. */
  public static final class ExposesGrpc {
    /** Exposes a gRPC type in a generic return type. */
    public List<io.grpc.Status> status() {
      return List.of();
    }
  }

  /**
   * The artifacts {@code mvn dependency:list} resolves for {@code module} in runtime scope, as
   * {@code groupId:artifactId:...} lines; the reactor's own modules come from the local repository,
   * where the install that precedes this module put them.
   */
  private static List<String> runtimeDependencies(Path root, String module, Path logs) {
    Path list = logs.resolve(module + "-dependencies.txt").toAbsolutePath();
    Path log = logs.resolve(module + "-dependency-list.log");
    List<String> command =
        List.of(
            root.resolve("mvnw").toString(),
            "-B",
            "-q",
            "-f",
            module + "/pom.xml",
            "dependency:list",
            "-DincludeScope=runtime",
            "-DexcludeTransitive=false",
            "-DoutputFile=" + list);
    try {
      Files.deleteIfExists(list);
      Process process =
          new ProcessBuilder(command)
              .directory(root.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(5, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        fail(String.join(" ", command) + " did not finish in 5 minutes");
      }
      if (process.exitValue() != 0) {
        fail(
            "cannot list hearth-"
                + module
                + "'s dependencies; its sibling modules must be installed in the local Maven"
                + " repository (run ./run-tests or ./mvnw install -DskipTests). Maven said:\n"
                + Files.readString(log, StandardCharsets.UTF_8));
      }
      return Files.readAllLines(list, StandardCharsets.UTF_8).stream()
          .map(String::trim)
          .filter(line -> line.matches("[\\w.-]+:[\\w.-]+:.*"))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The public classes of the jar or classes directory that {@code anchor} was loaded from. */
  private static List<Class<?>> publicClasses(Class<?> anchor) {
    Path location;
    try {
      location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    List<String> names = new ArrayList<>();
    try {
      if (Files.isDirectory(location)) {
        try (Stream<Path> walk = Files.walk(location)) {
          walk.map(path -> location.relativize(path).toString().replace('\\', '/'))
              .forEach(names::add);
        }
      } else {
        try (JarFile jar = new JarFile(location.toFile())) {
          jar.stream().map(entry -> entry.getName()).forEach(names::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + location, e);
    }
    List<Class<?>> classes = new ArrayList<>();
    for (String name : names) {
      if (!name.endsWith(".class") || name.endsWith("module-info.class")) {
        continue;
      }
      String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
      try {
        Class<?> type = Class.forName(className, false, anchor.getClassLoader());
        if (isVisible(type)) {
          classes.add(type);
        }
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("cannot load " + className + " from " + location, e);
      }
    }
    return classes;
  }

  /** Whether code outside the package can see {@code type}: public, and so are its enclosers. */
  private static boolean isVisible(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
      if (!Modifier.isPublic(c.getModifiers()) || c.isAnonymousClass() || c.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  /** "Class.member: forbidden.Type" for each public or protected signature naming one. */
  private static Set<String> exposedForbiddenTypes(List<Class<?>> classes) {
    Set<String> found = new TreeSet<>();
    for (Class<?> type : classes) {
      check(found, type.getName() + " extends", type.getGenericSuperclass());
      for (Type supertype : type.getGenericInterfaces()) {
        check(found, type.getName() + " implements", supertype);
      }
      for (TypeVariable<?> variable : type.getTypeParameters()) {
        check(found, type.getName() + "<" + variable.getName() + ">", variable);
      }
      for (Field field : type.getDeclaredFields()) {
        if (isExposed(field.getModifiers())) {
          check(found, type.getName() + "." + field.getName(), field.getGenericType());
        }
      }
      for (Constructor<?> constructor : type.getDeclaredConstructors()) {
        if (isExposed(constructor.getModifiers())) {
          checkExecutable(found, type.getName() + ".<init>", constructor);
        }
      }
      for (Method method : type.getDeclaredMethods()) {
        if (isExposed(method.getModifiers()) && !method.isSynthetic()) {
          String where = type.getName() + "." + method.getName() + "()";
          check(found, where, method.getGenericReturnType());
          checkExecutable(found, where, method);
        }
      }
    }
    return found;
  }

  private static boolean isExposed(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void checkExecutable(Set<String> found, String where, Executable executable) {
    for (Type parameter : executable.getGenericParameterTypes()) {
      check(found, where, parameter);
    }
    for (Type exception : executable.getGenericExceptionTypes()) {
      check(found, where, exception);
    }
    for (TypeVariable<?> variable : executable.getTypeParameters()) {
      check(found, where, variable);
    }
  }

  private static void check(Set<String> found, String where, Type type) {
    visit(type, new HashSet<>(), name -> found.add(where + ": " + name));
  }

  /** Calls {@code report} with every forbidden class name {@code type} mentions. */
  private static void visit(Type type, Set<Type> seen, Consumer<String> report) {
    if (type == null || !seen.add(type)) {
      return;
    }
    if (type instanceof Class<?> c) {
      Class<?> element = c;
      while (element.isArray()) {
        element = element.getComponentType();
      }
      String name = element.getName();
      if (FORBIDDEN_PACKAGES.stream().anyMatch(name::startsWith)) {
        report.accept(name);
      }
    } else if (type instanceof ParameterizedType p) {
      visit(p.getRawType(), seen, report);
      visit(p.getOwnerType(), seen, report);
      for (Type argument : p.getActualTypeArguments()) {
        visit(argument, seen, report);
      }
    } else if (type instanceof WildcardType w) {
      for (Type bound : w.getUpperBounds()) {
        visit(bound, seen, report);
      }
      for (Type bound : w.getLowerBounds()) {
        visit(bound, seen, report);
      }
    } else if (type instanceof GenericArrayType a) {
      visit(a.getGenericComponentType(), seen, report);
    } else if (type instanceof TypeVariable<?> v) {
      for (Type bound : v.getBounds()) {
        visit(bound, seen, report);
      }
    }
  }
}
