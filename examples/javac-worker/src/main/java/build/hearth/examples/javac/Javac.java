package build.hearth.examples.javac;

import com.sun.source.util.JavacTask;
import com.sun.source.util.TaskEvent;
import com.sun.source.util.TaskListener;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * Compiles one {@link CompileRequest} into its jar with the JDK's compiler, in this JVM.
 *
 * <p>What stays warm between requests is the {@link JavaCompiler} and, more importantly, the JVM
 * itself: javac's classes are loaded and JIT-compiled, and javac shares its index of the JDK's own
 * classes (the {@code jrt:} image) between tasks by itself. Everything else is made per request and
 * dropped after it: a new {@link StandardJavaFileManager}, because a file manager keeps the jars of
 * its classpath open and indexed, and a jar rewritten at the same path by the next build (Bazel
 * reuses output paths) would be read stale; and a new temporary class directory, deleted when the
 * jar is written. That costs a few milliseconds per request and keeps a long-lived worker from
 * growing with every classpath it has seen.
 *
 * <p>Thread-safe: concurrent {@link #compile} calls share nothing but the compiler, which javac
 * documents as reusable for many tasks.
 */
final class Javac {
  /** A test seam: told of every compiler event of every request, before cancellation is checked. */
  interface Observer {
    Observer NONE = (requestId, event) -> {};

    void onEvent(int requestId, TaskEvent event);
  }

  /** What a compilation did. {@code output} holds javac's diagnostics, possibly empty. */
  record Outcome(int exitCode, String output, boolean cancelled) {}

  static final int OK = 0;
  static final int COMPILE_ERROR = 1;
  static final int USAGE_ERROR = 2;
  static final int INTERNAL_ERROR = 3;

  private final JavaCompiler compiler;
  private final Observer observer;

  Javac() {
    this(Observer.NONE);
  }

  Javac(Observer observer) {
    JavaCompiler system = ToolProvider.getSystemJavaCompiler();
    if (system == null) {
      throw new IllegalStateException(
          "no Java compiler in this runtime (java.home="
              + System.getProperty("java.home")
              + "); run the worker with a JDK, not a JRE");
    }
    this.compiler = system;
    this.observer = observer;
  }

  /**
   * Compiles {@code request} and, if that succeeds, writes its jar.
   *
   * @param requestId the request's id, for the observer only
   * @param cancelled polled at every compiler event; once true, the compilation stops at the next
   *     event and no jar is written
   * @return exit code 0 with any warnings, 1 with javac's errors, 2 for options javac rejects, 3
   *     when the jar cannot be written; or a cancelled outcome
   */
  Outcome compile(CompileRequest request, int requestId, BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      return new Outcome(OK, "", true);
    }
    StringWriter diagnostics = new StringWriter();
    Path classes = null;
    try (StandardJavaFileManager files =
        compiler.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8)) {
      // A jar left from an earlier request must not pass for this one's if this one fails: a
      // worker reusing its directory (as remote workers do) would otherwise collect it.
      Files.deleteIfExists(request.output());
      classes = Files.createTempDirectory("javac-worker-");
      files.setLocationFromPaths(StandardLocation.CLASS_OUTPUT, List.of(classes));
      files.setLocationFromPaths(StandardLocation.CLASS_PATH, request.classpath());
      // An explicit, empty source path: javac would otherwise look for sources on the classpath
      // and could compile files nobody asked for into this jar.
      files.setLocationFromPaths(StandardLocation.SOURCE_PATH, List.of());
      if (!request.sources().isEmpty()) {
        Iterable<? extends JavaFileObject> units =
            files.getJavaFileObjectsFromPaths(request.sources());
        JavacTask task;
        try {
          task =
              (JavacTask)
                  compiler.getTask(diagnostics, files, null, request.javacOptions(), null, units);
        } catch (IllegalArgumentException e) {
          return new Outcome(USAGE_ERROR, "javac rejected an option: " + e.getMessage(), false);
        }
        task.addTaskListener(new CancellationCheck(requestId, cancelled));
        TaskResult result = call(task);
        if (result == TaskResult.CANCELLED) {
          return new Outcome(OK, diagnostics.toString(), true);
        }
        if (result == TaskResult.FAILED) {
          return new Outcome(COMPILE_ERROR, diagnostics.toString(), false);
        }
      }
      DeterministicJar.write(classes, request.output());
      return new Outcome(OK, diagnostics.toString(), false);
    } catch (IOException | UncheckedIOException e) {
      return new Outcome(
          INTERNAL_ERROR, diagnostics + "javac worker: I/O error: " + e.getMessage(), false);
    } finally {
      if (classes != null) {
        deleteQuietly(classes);
      }
    }
  }

  private enum TaskResult {
    SUCCEEDED,
    FAILED,
    CANCELLED
  }

  /**
   * Runs the task. A listener's exception reaches the caller of {@link JavacTask#call} wrapped by
   * javac (as client code that failed), so the cause chain is searched for the cancellation.
   */
  private static TaskResult call(JavacTask task) {
    try {
      return task.call() ? TaskResult.SUCCEEDED : TaskResult.FAILED;
    } catch (RuntimeException e) {
      for (Throwable cause = e; cause != null; cause = cause.getCause()) {
        if (cause instanceof Cancelled) {
          return TaskResult.CANCELLED;
        }
      }
      throw e;
    }
  }

  private static void deleteQuietly(Path directory) {
    try {
      Files.walkFileTree(
          directory,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.delete(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // A leftover temporary directory is not worth failing a compilation for.
    }
  }

  /** Stops a task at the first compiler event after its request was cancelled. */
  private final class CancellationCheck implements TaskListener {
    private final int requestId;
    private final BooleanSupplier cancelled;

    CancellationCheck(int requestId, BooleanSupplier cancelled) {
      this.requestId = requestId;
      this.cancelled = cancelled;
    }

    @Override
    public void started(TaskEvent event) {
      check(event);
    }

    @Override
    public void finished(TaskEvent event) {
      check(event);
    }

    private void check(TaskEvent event) {
      observer.onEvent(requestId, event);
      if (cancelled.getAsBoolean()) {
        throw new Cancelled();
      }
    }
  }

  /** Thrown through javac to abandon a cancelled task; never seen outside this class. */
  private static final class Cancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super("cancelled", null, false, false);
    }
  }
}
