package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.web.ActionLinks;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web UI in Debian's headless Chromium: a server with an in-process worker runs a successful
 * and a failing action whose file names, arguments and logs carry markup, and the pages show them
 * escaped, with no script run; an identity without {@code read} on an instance sees none of its
 * actions. A screenshot of each page is saved under {@code target/web-ui/}.
 */
class WebUiBrowserTest {
  private static final Path CHROMIUM = Paths.get("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Paths.get("/usr/bin/chromedriver");
  private static final String CI_TOKEN = "ci-token-for-the-web-ui-test";
  private static final String DEV_TOKEN = "dev-token-for-the-web-ui-test";
  private static final String MARKUP_FILE = "<img src=x onerror=window.pwned=1>.txt";
  private static final String MARKUP_ARGUMENT = "<script>window.pwned=2</script>";
  private static final String MARKUP_STDERR = "<script>window.pwned=3</script> boom";

  @TempDir static Path dir;
  private static HearthServer server;
  private static ManagedChannel channel;
  private static ChromeDriver browser;
  private static Digest succeeded;
  private static Digest failed;
  private static Digest secret;
  private static Digest persistentCold;
  private static Digest persistentWarm;

  @BeforeAll
  static void start() throws Exception {
    // Installed by ./run-tests; without them this test must fail, not pass quietly.
    assertThat(Files.isExecutable(CHROMIUM))
        .as("Debian's chromium at " + CHROMIUM + " (apt-get install chromium chromium-driver)")
        .isTrue();
    assertThat(Files.isExecutable(CHROMEDRIVER))
        .as("Debian's chromedriver at " + CHROMEDRIVER + " (apt-get install chromium-driver)")
        .isTrue();
    server =
        HearthServer.start(
            HearthConfig.parse(
                """
                {
                  "blobStores": { "cas": { "type": "memory" } },
                  "actionCacheStores": { "ac": { "type": "memory" } },
                  "schedulers": { "main": {} },
                  "servers": [ {
                    "listen": "127.0.0.1:0",
                    "instances": {
                      "": { "cas": "cas", "actionCache": "ac", "execution": { "scheduler": "main" } },
                      "secret": { "cas": "cas", "actionCache": "ac",
                                  "execution": { "scheduler": "main" } }
                    },
                    "authentication": {
                      "tokens": [ { "name": "ci", "sha256": "%s" }, { "name": "dev", "sha256": "%s" } ],
                      "trustLoopback": false
                    },
                    "permissions": [
                      { "identities": ["token:ci"],
                        "grant": ["read", "write", "execute", "metrics", "admin"] },
                      { "identities": ["token:dev"], "instances": [""], "grant": ["read"] }
                    ]
                  } ],
                  "workers": [ { "name": "local", "scheduler": "main", "slots": 2,
                                 "workDirectory": %s, "cache": { "path": %s }, "sandbox": "off" } ]
                }
                """
                    .formatted(
                        sha256(CI_TOKEN),
                        sha256(DEV_TOKEN),
                        ServerProcess.jsonString(dir.resolve("work").toString()),
                        ServerProcess.jsonString(dir.resolve("cache").toString())),
                "test"));
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + CI_TOKEN);
    channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
            .build();
    succeeded =
        execute(
            "", List.of("/bin/sh", "-c", "cat \"$1\"; echo done > out.txt", "sh", MARKUP_FILE), 0);
    failed =
        execute(
            "",
            List.of(
                "/bin/sh", "-c", "echo \"$1\" >&2; exit 3", "sh", MARKUP_ARGUMENT + MARKUP_STDERR),
            3);
    secret = execute("secret", List.of("/bin/sh", "-c", "echo secret-instance"), 0);
    // Two requests of one key: the first starts its process, the second finds it warm.
    persistentCold = executePersistent("first");
    persistentWarm = executePersistent("second");

    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // Root in a container: Chromium's own sandbox cannot start there.
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage");
    options.addArguments("--window-size=1280,2000");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (browser != null) {
      browser.quit();
    }
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void theOverviewListsTheActionsWorkersAndSchedulers() throws IOException {
    open(CI_TOKEN, "/ui/", "overview");

    assertThat(text("schedulers")).contains("main");
    assertThat(text("workers")).contains("local", "in-process");
    String actions = text("actions");
    assertThat(actions).contains(short12(succeeded), short12(failed), "exit 3", "ok", "local");
    assertThat(actions).contains("secret");
    assertThat(noScriptRan()).isTrue();
  }

  @Test
  void aFailedActionsPageShowsItsStderrCommandLineAndInputsEscaped() throws IOException {
    open(CI_TOKEN, ActionLinks.of("").action("", failed), "action-failed");

    assertThat(text("outcome")).isEqualTo("exit 3");
    assertThat(text("exit-code")).isEqualTo("3");
    assertThat(text("worker")).isEqualTo("local");
    assertThat(text("stderr")).contains(MARKUP_ARGUMENT + MARKUP_STDERR);
    assertThat(text("arguments")).contains("/bin/sh", MARKUP_ARGUMENT + MARKUP_STDERR);
    assertThat(browser.findElements(By.cssSelector("#timeline tr"))).isNotEmpty();
    assertThat(noScriptRan()).isTrue();
  }

  @Test
  void aSucceededActionsInputTreeListsItsFileByItsMarkupName() throws IOException {
    open(CI_TOKEN, ActionLinks.of("").action("", succeeded), "action-succeeded");
    assertThat(text("outcome")).isEqualTo("ok");
    assertThat(text("inputs")).contains(MARKUP_FILE);
    assertThat(text("stdout")).contains("<b>input</b>");
    assertThat(text("outputs")).contains("out.txt");

    browser.findElement(By.id("input-root")).click();
    screenshot("directory");
    assertThat(text("entries")).contains(MARKUP_FILE);
    browser.findElement(By.linkText(MARKUP_FILE)).click();
    screenshot("blob");
    assertThat(text("content")).isEqualTo("<b>input</b>");
    assertThat(text("kind")).startsWith("text");
    assertThat(noScriptRan()).isTrue();
  }

  @Test
  void theOverviewShowsEachWorkerAndWhetherPersistentProcessesWereWarmOrCold() throws IOException {
    open(CI_TOKEN, "/ui/", "overview-workers");

    assertThat(browser.findElements(By.cssSelector("#workers tr td")))
        .extracting(WebElement::getText)
        .startsWith("local", "main", "in-process", "2");
    assertThat(text("schedulers")).contains("wait p50", "wait p95");
    String actions = text("actions");
    assertThat(actions)
        .contains(short12(persistentCold), short12(persistentWarm))
        .contains("cold: new process")
        .containsPattern("warm: process \\d+, request 2");

    open(CI_TOKEN, ActionLinks.of("").action("", persistentWarm), "action-warm");
    assertThat(text("persistent-worker")).matches("key web-ui-test: warm: process \\d+, request 2");
    open(CI_TOKEN, ActionLinks.of("").action("", persistentCold), "action-cold");
    assertThat(text("persistent-worker")).matches("key web-ui-test: cold: new process \\d+");
  }

  @Test
  void anIdentityWithoutReadOnAnInstanceCannotSeeItsActions() throws Exception {
    open(DEV_TOKEN, "/ui/", "overview-dev");
    assertThat(text("actions")).contains(short12(failed)).doesNotContain(short12(secret));
    assertThat(browser.getPageSource()).doesNotContain("id=\"schedulers\"");

    open(DEV_TOKEN, ActionLinks.of("").action("secret", secret), "action-forbidden");
    assertThat(text("error")).contains("read permission on instance 'secret'");

    // The same with a plain client: 403 for the page, 401 without a token.
    HttpClient http = HttpClient.newHttpClient();
    URI uri =
        URI.create(
            "http://127.0.0.1:" + server.port() + ActionLinks.of("").action("secret", secret));
    HttpResponse<String> dev =
        http.send(
            HttpRequest.newBuilder(uri).header("authorization", "Bearer " + DEV_TOKEN).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(dev.statusCode()).isEqualTo(403);
    assertThat(dev.body()).doesNotContain("secret-instance");
    HttpResponse<String> nobody =
        http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(nobody.statusCode()).isEqualTo(401);
    assertThat(nobody.headers().firstValue("www-authenticate")).contains("Bearer realm=\"hearth\"");
    assertThat(nobody.body()).doesNotContain("secret-instance");
  }

  @Test
  void malformedDigestsAreRefusedWithTheReason() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + server.port() + "/ui/action/ABC%3Cscript%3E/-1"))
                .header("authorization", "Bearer " + CI_TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("is not a SHA-256 hash").doesNotContain("<script>");
  }

  // ---- helpers ----

  /** Opens {@code path} as the holder of {@code token}, and saves a screenshot. */
  private static void open(String token, String path, String name) throws IOException {
    browser.executeCdpCommand("Network.enable", Map.of());
    browser.executeCdpCommand(
        "Network.setExtraHTTPHeaders",
        Map.of("headers", Map.of("authorization", "Bearer " + token)));
    browser.get("http://127.0.0.1:" + server.port() + path);
    screenshot(name);
  }

  private static void screenshot(String name) throws IOException {
    Path target = Paths.get("target", "web-ui", name + ".png");
    Files.createDirectories(target.getParent());
    Files.write(target, browser.getScreenshotAs(OutputType.BYTES));
  }

  private static String text(String id) {
    WebElement element = browser.findElement(By.id(id));
    return element.getText();
  }

  /** Whether none of the markup's scripts ran in the page. */
  private static boolean noScriptRan() {
    Object pwned = browser.executeScript("return typeof window.pwned;");
    return "undefined".equals(pwned);
  }

  private static String short12(Digest digest) {
    return digest.hash().substring(0, 12);
  }

  private static Digest execute(String instance, List<String> arguments, int exitCode)
      throws Exception {
    Digest input = upload(ByteString.copyFromUtf8("<b>input</b>"));
    Directory root =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName(MARKUP_FILE).setDigest(input.toProto()))
            .build();
    Command command =
        Command.newBuilder().addAllArguments(arguments).addOutputPaths("out.txt").build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(upload(instance, command).toProto())
            .setInputRootDigest(upload(instance, root).toProto())
            .build();
    Digest actionDigest = upload(instance, action);
    ExecuteResponse response = executeToTheEnd(instance, actionDigest);
    assertThat(response.getResult().getExitCode()).isEqualTo(exitCode);
    return actionDigest;
  }

  /**
   * Runs a request of the persistent worker {@code web-ui-test}: a shell loop speaking the JSON
   * worker protocol, answering each request line with exit code 0. {@code name} goes into the
   * request's flag file, so each call is an action of its own.
   */
  private static Digest executePersistent(String name) throws Exception {
    Digest params = upload(ByteString.copyFromUtf8(name + "\n"));
    Directory root =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("request.params").setDigest(params.toProto()))
            .build();
    Command command =
        Command.newBuilder()
            .addAllArguments(
                List.of(
                    "/bin/sh",
                    "-c",
                    "while IFS= read -r line; do printf '{\"exitCode\":0,\"output\":\"done\"}\\n';"
                        + " done",
                    "sh",
                    "@request.params"))
            .build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(upload("", command).toProto())
            .setInputRootDigest(upload("", root).toProto())
            .setPlatform(
                build.bazel.remote.execution.v2.Platform.newBuilder()
                    .addProperties(
                        build.bazel.remote.execution.v2.Platform.Property.newBuilder()
                            .setName("persistentWorkerKey")
                            .setValue("web-ui-test"))
                    .addProperties(
                        build.bazel.remote.execution.v2.Platform.Property.newBuilder()
                            .setName("persistentWorkerProtocol")
                            .setValue("json")))
            .build();
    Digest actionDigest = upload("", action);
    ExecuteResponse response = executeToTheEnd("", actionDigest);
    assertThat(response.getResult().getExitCode()).as(response.getMessage()).isZero();
    return actionDigest;
  }

  /**
   * Executes an uploaded action past the action cache, reads its operation stream to the end and
   * returns the response, which must have status OK.
   */
  private static ExecuteResponse executeToTheEnd(String instance, Digest actionDigest)
      throws Exception {
    Iterator<Operation> stream =
        ExecutionGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .execute(
                ExecuteRequest.newBuilder()
                    .setInstanceName(instance)
                    .setActionDigest(actionDigest.toProto())
                    .setSkipCacheLookup(true)
                    .build());
    Operation done = null;
    while (stream.hasNext()) {
      Operation operation = stream.next();
      if (operation.getDone()) {
        done = operation;
      }
    }
    assertThat(done).isNotNull();
    ExecuteResponse response = done.getResponse().unpack(ExecuteResponse.class);
    assertThat(response.getStatus().getCode()).as(response.getStatus().getMessage()).isZero();
    return response;
  }

  private static Digest upload(Message message) {
    return upload("", message.toByteString());
  }

  private static Digest upload(String instance, Message message) {
    return upload(instance, message.toByteString());
  }

  private static Digest upload(ByteString bytes) {
    upload("secret", bytes);
    return upload("", bytes);
  }

  private static Digest upload(String instance, ByteString bytes) {
    Digest digest = Digest.of(bytes);
    BatchUpdateBlobsResponse response =
        ContentAddressableStorageGrpc.newBlockingStub(channel)
            .batchUpdateBlobs(
                BatchUpdateBlobsRequest.newBuilder()
                    .setInstanceName(instance)
                    .addRequests(
                        BatchUpdateBlobsRequest.Request.newBuilder()
                            .setDigest(digest.toProto())
                            .setData(bytes))
                    .build());
    assertThat(response.getResponses(0).getStatus().getCode()).isZero();
    return digest;
  }

  private static String sha256(String token) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
  }
}
