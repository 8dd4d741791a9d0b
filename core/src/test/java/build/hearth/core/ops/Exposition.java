package build.hearth.core.ops;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: it fails on any line a scraper
 * would not accept, on samples outside their declared family, on label sets given twice, and on
 * histograms whose buckets are not cumulative or do not end in {@code +Inf} equal to the count.
 */
final class Exposition {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) (\\S+) (.*)");
  private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary");

  record Sample(String name, Map<String, String> labels, double value) {}

  /** Family name to type, in order of appearance. */
  final Map<String, String> types = new LinkedHashMap<>();

  final List<Sample> samples = new ArrayList<>();

  private Exposition() {}

  static Exposition parse(String text) {
    Exposition parsed = new Exposition();
    if (!text.isEmpty() && !text.endsWith("\n")) {
      throw new AssertionError("the exposition does not end with a newline");
    }
    Set<String> helped = new HashSet<>();
    Set<String> seen = new HashSet<>();
    String family = null;
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        Matcher comment = COMMENT.matcher(line);
        if (!comment.matches()) {
          throw new AssertionError("not a HELP or TYPE line: " + line);
        }
        String name = comment.group(2);
        require(NAME.matcher(name).matches(), "bad metric name in " + line);
        if (comment.group(1).equals("HELP")) {
          require(helped.add(name), "HELP given twice for " + name);
        } else {
          require(TYPES.contains(comment.group(3)), "unknown type in " + line);
          require(parsed.types.put(name, comment.group(3)) == null, "TYPE twice for " + name);
          family = name;
        }
        continue;
      }
      Sample sample = sample(line);
      require(family != null, "a sample before any TYPE line: " + line);
      String type = parsed.types.get(family);
      boolean belongs =
          sample.name.equals(family)
              || (type.equals("histogram")
                  && (sample.name.equals(family + "_bucket")
                      || sample.name.equals(family + "_count")
                      || sample.name.equals(family + "_sum")));
      require(belongs, "sample " + sample.name + " is outside its family " + family);
      require(seen.add(sample.name + sample.labels), "label set given twice: " + line);
      parsed.samples.add(sample);
    }
    parsed.checkHistograms();
    return parsed;
  }

  private static Sample sample(String line) {
    Matcher name = NAME.matcher(line);
    require(name.lookingAt(), "no metric name: " + line);
    int at = name.end();
    Map<String, String> labels = new TreeMap<>();
    if (at < line.length() && line.charAt(at) == '{') {
      at++;
      while (line.charAt(at) != '}') {
        int equals = line.indexOf('=', at);
        String labelName = line.substring(at, equals);
        require(LABEL_NAME.matcher(labelName).matches(), "bad label name in " + line);
        require(line.charAt(equals + 1) == '"', "unquoted label value in " + line);
        StringBuilder value = new StringBuilder();
        int i = equals + 2;
        for (; line.charAt(i) != '"'; i++) {
          char c = line.charAt(i);
          if (c == '\\') {
            char escaped = line.charAt(++i);
            value.append(escaped == 'n' ? '\n' : escaped);
          } else {
            value.append(c);
          }
        }
        require(labels.put(labelName, value.toString()) == null, "label twice in " + line);
        at = i + 1;
        if (line.charAt(at) == ',') {
          at++;
        }
      }
      at++;
    }
    require(line.charAt(at) == ' ', "no space before the value: " + line);
    String value = line.substring(at + 1);
    require(!value.contains(" "), "a timestamp or junk after the value: " + line);
    return new Sample(name.group(), labels, parseValue(value));
  }

  private static double parseValue(String value) {
    return switch (value) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(value);
    };
  }

  private void checkHistograms() {
    types.forEach(
        (family, type) -> {
          if (!type.equals("histogram")) {
            return;
          }
          Map<Map<String, String>, List<Sample>> bucketsBySeries = new LinkedHashMap<>();
          for (Sample sample : samples) {
            if (sample.name.equals(family + "_bucket")) {
              Map<String, String> series = new TreeMap<>(sample.labels);
              series.remove("le");
              bucketsBySeries.computeIfAbsent(series, k -> new ArrayList<>()).add(sample);
            }
          }
          bucketsBySeries.forEach(
              (series, buckets) -> {
                double previousBound = Double.NEGATIVE_INFINITY;
                double previousCount = 0;
                for (Sample bucket : buckets) {
                  double bound = parseValue(bucket.labels.get("le"));
                  require(bound > previousBound, family + " buckets out of order: " + series);
                  require(
                      bucket.value >= previousCount, family + " buckets not cumulative: " + series);
                  previousBound = bound;
                  previousCount = bucket.value;
                }
                require(
                    previousBound == Double.POSITIVE_INFINITY, family + " has no +Inf: " + series);
                require(
                    previousCount == value(family + "_count", series),
                    family + " +Inf bucket differs from the count: " + series);
                value(family + "_sum", series);
              });
        });
  }

  /** The one sample named {@code name} whose labels are exactly {@code labels}. */
  double value(String name, Map<String, String> labels) {
    List<Sample> found =
        samples.stream()
            .filter(sample -> sample.name.equals(name) && sample.labels.equals(labels))
            .toList();
    if (found.size() != 1) {
      throw new AssertionError(
          found.size() + " samples " + name + labels + " in:\n" + String.join("\n", names()));
    }
    return found.get(0).value;
  }

  /** {@code value("x", "a", "1", "b", "2")}: the sample x{a="1",b="2"}. */
  double value(String name, String... labelPairs) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i < labelPairs.length; i += 2) {
      labels.put(labelPairs[i], labelPairs[i + 1]);
    }
    return value(name, labels);
  }

  /** The samples named {@code name}. */
  List<Sample> samples(String name) {
    return samples.stream().filter(sample -> sample.name.equals(name)).toList();
  }

  private List<String> names() {
    return samples.stream().map(sample -> sample.name + sample.labels).toList();
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message);
    }
  }
}
