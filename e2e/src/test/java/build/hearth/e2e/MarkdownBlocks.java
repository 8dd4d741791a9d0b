package build.hearth.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fenced code blocks of a Markdown file whose info string carries a marker word after the
 * language, the convention by which the documentation says which blocks are meant to be used as
 * written:
 *
 * <ul>
 *   <li>{@code ```sh run}: shell commands, run from the directory of the Markdown file;
 *   <li>{@code ```sh run-from-checkout}: shell commands, run from the root of the checkout;
 *   <li>{@code ```jsonc config} (or {@code json}): a server configuration ({@code hearth serve
 *       FILE});
 *   <li>{@code ```json worker-config}: a worker's file ({@code hearth worker --config FILE}).
 * </ul>
 *
 * Renderers use only the first word of the info string, so the marker does not change how a block
 * looks. Blocks without a marker are prose and are never run. Stateless.
 */
final class MarkdownBlocks {
  static final String RUN = "run";
  static final String RUN_FROM_CHECKOUT = "run-from-checkout";
  static final String CONFIG = "config";
  static final String WORKER_CONFIG = "worker-config";

  private MarkdownBlocks() {}

  /** A fenced block: the file, the line of its opening fence, its marker (or "") and its text. */
  record Block(Path file, int line, String marker, String text) {
    /** {@code file:line}, for messages. */
    String where() {
      return file + ":" + line;
    }

    /**
     * The commands of a shell block, one per line, lines ending in {@code \} joined with the next;
     * blank lines and lines holding only a comment are left out.
     */
    List<String> commands() {
      List<String> commands = new ArrayList<>();
      StringBuilder current = new StringBuilder();
      for (String line : text.lines().toList()) {
        if (line.endsWith("\\")) {
          current.append(line, 0, line.length() - 1).append(' ');
          continue;
        }
        current.append(line);
        String command = current.toString().strip();
        current.setLength(0);
        if (!command.isEmpty() && !command.startsWith("#")) {
          commands.add(command);
        }
      }
      if (!current.toString().isBlank()) {
        commands.add(current.toString().strip());
      }
      return commands;
    }
  }

  /** Every fenced block of {@code file}, in order. */
  static List<Block> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String opening = lines.get(i).strip();
      if (!opening.startsWith("```")) {
        continue;
      }
      String indent = lines.get(i).substring(0, lines.get(i).indexOf('`'));
      List<String> words =
          Arrays.stream(opening.substring(3).strip().split("\\s+"))
              .filter(word -> !word.isEmpty())
              .toList();
      String marker = words.size() > 1 ? words.get(1) : "";
      StringBuilder text = new StringBuilder();
      int j = i + 1;
      while (j < lines.size() && !lines.get(j).strip().equals("```")) {
        String line = lines.get(j);
        text.append(line.startsWith(indent) ? line.substring(indent.length()) : line).append('\n');
        j++;
      }
      blocks.add(new Block(file, i + 1, marker, text.toString()));
      i = j;
    }
    return blocks;
  }

  /** The blocks of {@code file} with {@code marker}. */
  static List<Block> marked(Path file, String marker) {
    return read(file).stream().filter(block -> block.marker().equals(marker)).toList();
  }
}
