package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkdownBlocksTest {
  @TempDir Path directory;

  @Test
  void readsMarkersAndCommands() throws IOException {
    Path file =
        write(
            "# Title\n"
                + "\n"
                + "```\n"
                + "./prose --not-run\n"
                + "```\n"
                + "\n"
                + "```sh run\n"
                + "# a comment line\n"
                + "./first arg   # trailing comment\n"
                + "\n"
                + "java -cp a.jar \\\n"
                + "  Main serve\n"
                + "```\n"
                + "1. A step:\n"
                + "\n"
                + "   ```jsonc config\n"
                + "   { \"a\": 1 }\n"
                + "   ```\n");

    List<MarkdownBlocks.Block> blocks = MarkdownBlocks.read(file);

    assertThat(blocks)
        .extracting(MarkdownBlocks.Block::marker)
        .containsExactly("", "run", "config");
    assertThat(blocks).extracting(MarkdownBlocks.Block::line).containsExactly(3, 7, 16);
    assertThat(blocks.get(1).commands())
        .containsExactly("./first arg   # trailing comment", "java -cp a.jar    Main serve");
    assertThat(blocks.get(2).text()).isEqualTo("{ \"a\": 1 }\n");
    assertThat(MarkdownBlocks.marked(file, MarkdownBlocks.RUN)).hasSize(1);
  }

  private Path write(String text) throws IOException {
    return Files.writeString(directory.resolve("README.md"), text, StandardCharsets.UTF_8);
  }
}
