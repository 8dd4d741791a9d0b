package build.hearth.api;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One file of an input tree built in memory, for {@link ContentAddressableStorage#putTree}: its
 * bytes and whether it is executable.
 *
 * <pre>{@code
 * Digest root = cas.putTree(Map.of(
 *     "src/Hello.java", InputFile.of("class Hello {}"),
 *     "run.sh", InputFile.executable("#!/bin/sh\necho hi\n")));
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param content the file's bytes
 * @param executable whether the action may run it
 */
public record InputFile(ByteString content, boolean executable) {
  /**
   * Checks the content is present.
   *
   * @param content the file's bytes
   * @param executable whether the action may run it
   * @throws NullPointerException if {@code content} is null
   */
  public InputFile {
    Objects.requireNonNull(content, "content");
  }

  /**
   * A plain file.
   *
   * @param content the file's bytes
   * @return a file that is not executable
   */
  public static InputFile of(ByteString content) {
    return new InputFile(content, false);
  }

  /**
   * A plain text file.
   *
   * @param utf8 the file's text, written as UTF-8
   * @return a file that is not executable
   */
  public static InputFile of(String utf8) {
    return of(ByteString.copyFrom(utf8, StandardCharsets.UTF_8));
  }

  /**
   * An executable file, such as a script.
   *
   * @param content the file's bytes
   * @return an executable file
   */
  public static InputFile executable(ByteString content) {
    return new InputFile(content, true);
  }

  /**
   * An executable text file, such as a shell script.
   *
   * @param utf8 the file's text, written as UTF-8
   * @return an executable file
   */
  public static InputFile executable(String utf8) {
    return executable(ByteString.copyFrom(utf8, StandardCharsets.UTF_8));
  }
}
