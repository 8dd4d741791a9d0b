package build.hearth.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * Generates Java libraries into a copy of the {@code javac} workspace template, for its {@code
 * java_lib} rule: {@code libraries} packages {@code lib00}, {@code lib01}, ... each with a {@code
 * BUILD} file and 3 to 5 small classes, and a final package {@code app} whose {@code app.Main}
 * prints a checksum computed through every library.
 *
 * <p>The libraries form layers of {@value #LAYER_WIDTH}. Each library after the first layer depends
 * on one library of the layer before and on up to two more of any earlier layer, and its classes
 * call into those libraries; so 40 libraries make a dependency graph 8 libraries deep, plus the
 * app, with up to {@value #LAYER_WIDTH} compilations able to run at once. The shape and the
 * constants come from a fixed seed: every run generates the same sources.
 *
 * <p>The generator computes the checksum itself with the same arithmetic as the generated code, so
 * a test that runs {@code app.Main} and sees {@link #expectedOutput()} knows every library was
 * really compiled and linked. Immutable once generated.
 */
final class JavaWorkspace {
  /** Libraries per layer: how many compilations can run side by side. */
  static final int LAYER_WIDTH = 5;

  private static final long SEED = 0x4EA27L;

  private final List<String> packages;
  private final long checksum;

  private JavaWorkspace(List<String> packages, long checksum) {
    this.packages = List.copyOf(packages);
    this.checksum = checksum;
  }

  /** Writes {@code libraries} libraries and the app into the workspace at {@code root}. */
  static JavaWorkspace generate(Path root, int libraries) {
    if (libraries < 1) {
      throw new IllegalArgumentException("libraries must be at least 1, not " + libraries);
    }
    Random random = new Random(SEED);
    long[] checksums = new long[libraries];
    List<String> packages = new ArrayList<>();
    for (int i = 0; i < libraries; i++) {
      List<Integer> deps = pickDependencies(i, random);
      checksums[i] = writeLibrary(root, i, libraries, deps, checksums, random);
      packages.add(name(i));
    }
    packages.add("app");
    return new JavaWorkspace(packages, writeApp(root, libraries, checksums));
  }

  /** One library of the layer just before, then up to two more from any earlier layer. */
  private static List<Integer> pickDependencies(int library, Random random) {
    int layer = library / LAYER_WIDTH;
    if (layer == 0) {
      return List.of();
    }
    TreeSet<Integer> deps = new TreeSet<>();
    deps.add((layer - 1) * LAYER_WIDTH + random.nextInt(LAYER_WIDTH));
    int extra = random.nextInt(3);
    int earlier = layer * LAYER_WIDTH;
    while (deps.size() < 1 + Math.min(extra, earlier - 1)) {
      deps.add(random.nextInt(earlier));
    }
    return List.copyOf(deps);
  }

  /**
   * Writes library {@code i}: steps {@code Step0..StepN} (package-private), each a {@code
   * LongUnaryOperator} mixing in a dependency's checksum, and the public entry class {@code LibNN}
   * whose {@code CHECKSUM} runs them all. Returns that checksum, computed here the same way.
   */
  private static long writeLibrary(
      Path root, int i, int libraries, List<Integer> deps, long[] checksums, Random random) {
    String pkg = name(i);
    int steps = 2 + random.nextInt(3); // with the entry class: 3 to 5 classes
    long value = i;
    StringBuilder stepList = new StringBuilder();
    for (int s = 0; s < steps; s++) {
      long multiplier = 2L * random.nextInt(5000) + 3; // odd, so no information is lost
      long addend = random.nextInt(1_000_000);
      int rotation = 1 + random.nextInt(63);
      Integer dep = deps.isEmpty() ? null : deps.get(s % deps.size());
      String mix = dep == null ? "" : " ^ " + name(dep) + "." + entryClass(dep) + ".CHECKSUM";
      write(
          root,
          pkg + "/Step" + s + ".java",
          """
          package %s;

          import java.util.function.LongUnaryOperator;

          /** Generated: step %d of %s. */
          final class Step%d implements LongUnaryOperator {
            @Override
            public long applyAsLong(long x) {
              return Long.rotateLeft(x * %dL + %dL, %d)%s;
            }
          }
          """
              .formatted(pkg, s, pkg, s, multiplier, addend, rotation, mix));
      value = Long.rotateLeft(value * multiplier + addend, rotation);
      if (dep != null) {
        value ^= checksums[dep];
      }
      stepList.append(s == 0 ? "" : ", ").append("new Step").append(s).append("()");
    }
    write(
        root,
        pkg + "/" + entryClass(i) + ".java",
        """
        package %s;

        import java.util.List;
        import java.util.function.LongUnaryOperator;

        /** Generated library %d of %d; depends on %s. */
        public final class %s {
          public static final long CHECKSUM = compute();

          private %s() {}

          private static long compute() {
            long x = %dL;
            for (LongUnaryOperator step : List.of(%s)) {
              x = step.applyAsLong(x);
            }
            return x;
          }
        }
        """
            .formatted(
                pkg,
                i,
                libraries,
                deps.isEmpty() ? "nothing" : deps.stream().map(JavaWorkspace::name).toList(),
                entryClass(i),
                entryClass(i),
                i,
                stepList));
    write(root, pkg + "/BUILD", buildFile(pkg, deps.stream().map(JavaWorkspace::name).toList()));
    return value;
  }

  private static long writeApp(Path root, int libraries, long[] checksums) {
    StringBuilder body = new StringBuilder();
    long sum = 0;
    List<String> deps = new ArrayList<>();
    for (int i = 0; i < libraries; i++) {
      body.append("    sum = sum * 31L + ")
          .append(name(i))
          .append('.')
          .append(entryClass(i))
          .append(".CHECKSUM;\n");
      sum = sum * 31L + checksums[i];
      deps.add(name(i));
    }
    write(
        root,
        "app/Main.java",
        """
        package app;

        /** Generated: prints a checksum that every library contributes to. */
        public final class Main {
          private Main() {}

          public static void main(String[] args) {
            long sum = 0L;
        %s    System.out.println("checksum " + Long.toHexString(sum));
          }
        }
        """
            .formatted(body));
    write(root, "app/BUILD", buildFile("app", deps));
    return sum;
  }

  private static String buildFile(String name, List<String> deps) {
    StringBuilder depList = new StringBuilder();
    for (String dep : deps) {
      depList.append("        \"//").append(dep).append("\",\n");
    }
    return """
        load("//tools:defs.bzl", "java_lib")

        java_lib(
            name = "%s",
            srcs = glob(["*.java"]),
            deps = [
        %s    ],
            visibility = ["//visibility:public"],
        )
        """
        .formatted(name, depList);
  }

  private static String name(int library) {
    return String.format("lib%02d", library);
  }

  private static String entryClass(int library) {
    return String.format("Lib%02d", library);
  }

  private static void write(Path root, String relative, String content) {
    Path file = root.resolve(relative);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /**
   * Every generated package, libraries first and {@code app} last; each builds {@code <pkg>.jar}.
   */
  List<String> packages() {
    return packages;
  }

  /** Each package's jar, relative to {@code bazel-bin}, in {@link #packages()} order. */
  List<String> jars() {
    return packages.stream().map(pkg -> pkg + "/" + pkg + ".jar").toList();
  }

  /** What {@code java -cp <all jars> app.Main} must print (one line). */
  String expectedOutput() {
    return "checksum " + Long.toHexString(checksum);
  }
}
