package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.server.HearthServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * From Bazel's output to the failed action's page: Bazel 4.2.3 runs a workspace of Java libraries
 * compiled on persistent javac processes and a test that fails, all remotely on Hearth; a second
 * build after {@code bazel clean} is served by warm processes, and the overview's recent actions
 * say which compiles ran cold and which warm. The failed test's log ends with the ExecuteResponse's
 * message, which carries the action page's address; Debian's headless Chromium opens it and the
 * overview, and a screenshot of each page is saved under {@code target/web-ui-e2e/}.
 */
class WebUiE2eTest {
  private static final int LIBRARIES = 4;
  private static final String KEY = "web-e2e";
  private static final String STDERR = "fails.sh: the answer was not <42> & nothing else";
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Pattern DETAILS = Pattern.compile("details: (http://\\S+/ui/action/\\S+)");

  @Test
  void theLinkInAFailedTestsLogOpensItsPageAndTheOverviewShowsWarmRequests(@TempDir Path storage)
      throws IOException {
    assertThat(CHROMIUM).as("Debian's chromium (apt-get install chromium)").isExecutable();
    assertThat(CHROMEDRIVER)
        .as("Debian's chromedriver (apt-get install chromium-driver)")
        .isExecutable();
    WorkerSetup worker = WorkerSetup.linux("web-host", 2, storage.resolve("workers"));
    BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
    JavaWorkspace.generate(workspace.root(), LIBRARIES);
    // sh_test makes Bazel 4.2.3 load repositories it would download; the remote workspace's
    // stand-ins keep this one offline.
    workspace.copyFromTemplate("remote", "stubs");
    Files.writeString(
        workspace.resolve("WORKSPACE"),
        Files.readString(workspace.resolve("WORKSPACE"))
            + "\nlocal_repository(name = \"rules_cc\", path = \"stubs/rules_cc\")\n"
            + "local_repository(name = \"rules_java\", path = \"stubs/rules_java\")\n"
            + "local_repository(name = \"remote_coverage_tools\","
            + " path = \"stubs/remote_coverage_tools\")\n");
    workspace.writeFile(
        "checks/BUILD", "sh_test(\n    name = \"fails\",\n    srcs = [\"fails.sh\"],\n)\n");
    workspace.writeFile("checks/fails.sh", "#!/bin/sh\necho '" + STDERR + "' >&2\nexit 1\n");
    Files.setPosixFilePermissions(
        workspace.resolve("checks/fails.sh"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));

    try (HearthServer hearth =
            HearthServer.start(
                HearthConfigs.remoteExecution(
                    storage,
                    "10m",
                    List.of(worker),
                    "\"persistentWorkers\": {\"maxProcessesPerKey\": 2}"));
        Bazel bazel = Bazel.open(workspace, WebUiE2eTest.class, Duration.ofMinutes(6))) {
      String[] flags = {
        "--remote_executor=grpc://localhost:" + hearth.port(),
        "--remote_default_exec_properties=OSFamily=Linux",
        "--remote_default_exec_properties=persistentWorkerKey=" + KEY,
        "--spawn_strategy=remote",
        "--keep_going",
        "//..."
      };
      // Twice, the second after a clean and past the action cache, so that its compiles find
      // warm processes; the test fails both times (exit code 3: a test failed).
      bazel.run("test", flags).assertExitCode(3);
      bazel.clean();
      BazelResult second = bazel.run("test", withFirst("--noremote_accept_cached", flags));
      second.assertExitCode(3);

      Path testLog = workspace.resolve("bazel-testlogs/checks/fails/test.log");
      String log = Files.readString(testLog);
      assertThat(log).as("the test's own stderr").contains(STDERR);
      Matcher details = DETAILS.matcher(log);
      assertThat(details.find()).as("the action page's address in %s:%n%s", testLog, log).isTrue();
      String actionPage = details.group(1);
      assertThat(actionPage).startsWith("http://127.0.0.1:" + hearth.port() + "/ui/action/");

      ChromeDriver browser = browser();
      try {
        browser.get("http://127.0.0.1:" + hearth.port() + "/ui/");
        screenshot(browser, "overview");
        WebElement row = keyRow(browser);
        List<WebElement> cells = row.findElements(By.tagName("td"));
        // worker, key, tool, protocol, alive, idle, busy, requests, warm, cold, ...
        long requests = Long.parseLong(cells.get(7).getText());
        long warm = Long.parseLong(cells.get(8).getText());
        assertThat(requests)
            .as("two builds' compiles")
            .isGreaterThanOrEqualTo(2L * (LIBRARIES + 1));
        assertThat(warm)
            .as("the second build's compiles ran on warm processes")
            .isGreaterThanOrEqualTo(LIBRARIES + 1);
        // Each recent action says which process ran it: the first build's compiles started
        // processes (cold), the second's found them warm.
        List<String> processes = new java.util.ArrayList<>();
        for (WebElement action :
            browser.findElement(By.id("actions")).findElements(By.tagName("tr"))) {
          List<WebElement> columns = action.findElements(By.tagName("td"));
          // completed, instance, action, outcome, duration, queued, worker, persistent process
          if (columns.size() > 7) {
            processes.add(columns.get(7).getText());
          }
        }
        assertThat(processes)
            .as("the recent actions' persistent processes")
            .filteredOn(p -> p.matches("warm: process \\d+, request \\d+"))
            .hasSizeGreaterThanOrEqualTo(LIBRARIES + 1);
        assertThat(processes)
            .as("the recent actions' persistent processes")
            .filteredOn(p -> p.matches("cold: new process \\d+"))
            .isNotEmpty();

        browser.get(actionPage);
        screenshot(browser, "failed-action");
        assertThat(browser.findElement(By.id("exit-code")).getText()).isNotEqualTo("0");
        // Bazel's test runner sends the test's stderr to the action's stdout (its test.log); the
        // page shows it as written, markup and all.
        assertThat(browser.findElement(By.id("stdout")).getText()).contains(STDERR);
        assertThat(browser.findElement(By.id("arguments")).getText()).contains("checks/fails");

        // The input tree, from its root down to the test runner's script: directories link to
        // their pages, files are listed with their size and digest.
        browser.findElement(By.id("input-root")).click();
        screenshot(browser, "input-tree");
        assertThat(browser.findElement(By.tagName("body")).getText())
            .contains("bazel-out/", "external/");
        for (String directory : List.of("external/", "bazel_tools/", "tools/", "test/")) {
          browser.findElement(By.linkText(directory)).click();
        }
        screenshot(browser, "input-directory");
        assertThat(browser.findElement(By.tagName("body")).getText())
            .containsPattern("executable\\s+test-setup\\.sh\\s+[0-9.]+ KiB\\s+[0-9a-f]{64}/\\d+");
      } finally {
        browser.quit();
      }
    }
  }

  /** The overview's row of the persistent-worker key this test uses. */
  private static WebElement keyRow(ChromeDriver browser) {
    for (WebElement row :
        browser.findElement(By.id("persistent-workers")).findElements(By.tagName("tr"))) {
      List<WebElement> cells = row.findElements(By.tagName("td"));
      if (cells.size() > 8 && cells.get(1).getText().equals(KEY)) {
        return row;
      }
    }
    throw new AssertionError(
        "no row for key "
            + KEY
            + " in the overview's persistent workers: "
            + browser.findElement(By.id("persistent-workers")).getText());
  }

  private static ChromeDriver browser() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // Root in a container: Chromium's own sandbox cannot start there.
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage");
    options.addArguments("--window-size=1280,2000");
    return new ChromeDriver(
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .build(),
        options);
  }

  private static void screenshot(ChromeDriver browser, String name) throws IOException {
    Path target = E2eDirectories.target().resolve("web-ui-e2e").resolve(name + ".png");
    Files.createDirectories(target.getParent());
    Files.write(target, browser.getScreenshotAs(OutputType.BYTES));
  }

  private static String[] withFirst(String flag, String[] flags) {
    String[] all = new String[flags.length + 1];
    all[0] = flag;
    System.arraycopy(flags, 0, all, 1, flags.length);
    return all;
  }
}
