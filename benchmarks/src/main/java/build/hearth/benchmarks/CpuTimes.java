package build.hearth.benchmarks;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time that this JVM spent inside timed regions, summed per thread pool. It answers the first
 * question about a slow measurement: were the cores busy, and with what (the client's transport
 * thread, the server's, the service pool, the JIT compiler, the garbage collector), or was the
 * process waiting?
 *
 * <p>On Linux every thread is read from {@code /proc/self/task}, the JVM's own threads (GC, JIT)
 * included; elsewhere only Java threads are seen, through {@link ThreadMXBean}, and the rest of the
 * process's time is shown as "other". Threads that live only between two snapshots are missed. Call
 * {@link #snapshot()} right before and after each timed region and {@link #add} the pair, so
 * untimed preparation between iterations does not count. Not thread-safe: one driver thread uses
 * it.
 */
final class CpuTimes {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final Path TASKS = Path.of("/proc/self/task");

  private final Map<String, Long> nanosByPool = new TreeMap<>();
  private long processNanos;
  private long wallNanos;
  private long gcCount;
  private long gcMillis;

  /** CPU nanoseconds per thread (with its pool), of the process, and the clock, at one moment. */
  record Snapshot(
      Map<Long, Long> nanosById,
      Map<Long, String> poolsById,
      long process,
      long wall,
      long gcCount,
      long gcMillis) {}

  static Snapshot snapshot() {
    Map<Long, Long> nanos = new HashMap<>();
    Map<Long, String> pools = new HashMap<>();
    if (!readProcTasks(nanos, pools)) {
      nanos.clear();
      pools.clear();
      readJavaThreads(nanos, pools);
    }
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new Snapshot(nanos, pools, processCpuNanos(), System.nanoTime(), count, millis);
  }

  void add(Snapshot start, Snapshot end) {
    end.nanosById()
        .forEach(
            (id, nanos) -> {
              long delta = nanos - start.nanosById().getOrDefault(id, 0L);
              if (delta > 0) {
                nanosByPool.merge(end.poolsById().get(id), delta, Long::sum);
              }
            });
    processNanos += Math.max(0, end.process() - start.process());
    wallNanos += end.wall() - start.wall();
    gcCount += end.gcCount() - start.gcCount();
    gcMillis += end.gcMillis() - start.gcMillis();
  }

  /**
   * The CPU nanoseconds counted so far for the threads of {@code pools} (names of {@link #pool}).
   */
  long nanosOf(String... pools) {
    long sum = 0;
    for (String pool : pools) {
      sum += nanosByPool.getOrDefault(pool, 0L);
    }
    return sum;
  }

  /**
   * One line, such as {@code "wall 7.02 s, CPU 12.9 s (1.8 cores busy): server service pool 5.10 s,
   * ...; 3 GC pauses, 41 ms"}: pools with at least 2% of the total, largest first.
   */
  String describe() {
    long named = nanosByPool.values().stream().mapToLong(Long::longValue).sum();
    long total = Math.max(processNanos, named);
    String pools =
        nanosByPool.entrySet().stream()
            .filter(e -> e.getValue() * 50 >= total)
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .map(e -> e.getKey() + " " + seconds(e.getValue()))
            .collect(Collectors.joining(", "));
    String other = total - named > total / 50 ? ", other " + seconds(total - named) : "";
    return String.format(
        Locale.ROOT,
        "wall %s, CPU %s (%.1f cores busy): %s%s; %d GC events, %d ms",
        seconds(wallNanos),
        seconds(total),
        wallNanos == 0 ? 0.0 : (double) total / wallNanos,
        pools,
        other,
        gcCount,
        gcMillis);
  }

  /**
   * A readable pool name for a thread name; Linux cuts thread names to 15 characters, so the
   * prefixes are matched on what is left of them.
   */
  static String pool(String threadName) {
    String name = threadName.strip();
    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
      return "JIT compiler";
    }
    if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("VM Thread")) {
      return "GC and VM";
    }
    if (name.startsWith(GrpcCasTarget.CLIENT_THREADS)) {
      return "client transport (Netty)";
    }
    if (name.startsWith("grpc-default-wo")
        || name.startsWith("grpc-nio-worke")
        || name.startsWith("grpc-default-worker")) {
      return "server transport (Netty)";
    }
    if (name.startsWith("hearth-grpc")) {
      return "server service pool";
    }
    if (name.startsWith("hearth-worker")) {
      return "worker slots";
    }
    if (name.startsWith("hearth-schedul")) {
      return "scheduler";
    }
    if (name.startsWith("bench-driver")) {
      return "driver threads";
    }
    if (name.equals("java") || name.equals("main")) {
      return "driver (main thread)";
    }
    String trimmed = name.replaceAll("([-#_ ]?\\d+)+$", "");
    return trimmed.isEmpty() ? name : trimmed;
  }

  private static boolean readProcTasks(Map<Long, Long> nanos, Map<Long, String> pools) {
    if (!Files.isDirectory(TASKS)) {
      return false;
    }
    try (Stream<Path> tasks = Files.list(TASKS)) {
      for (Path task : tasks.toList()) {
        try {
          // schedstat: nanoseconds on the CPU, then waiting time, then time slices.
          String schedstat = Files.readString(task.resolve("schedstat")).strip();
          long onCpu = Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
          long id = Long.parseLong(task.getFileName().toString());
          nanos.put(id, onCpu);
          pools.put(id, pool(Files.readString(task.resolve("comm"))));
        } catch (IOException | RuntimeException e) {
          // The thread ended while being read; it simply does not count.
        }
      }
      return !nanos.isEmpty();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static void readJavaThreads(Map<Long, Long> nanos, Map<Long, String> pools) {
    if (!THREADS.isThreadCpuTimeSupported() || !THREADS.isThreadCpuTimeEnabled()) {
      return;
    }
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long cpu = THREADS.getThreadCpuTime(info.getThreadId());
      if (cpu >= 0) {
        nanos.put(info.getThreadId(), cpu);
        pools.put(info.getThreadId(), pool(info.getThreadName()));
      }
    }
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
