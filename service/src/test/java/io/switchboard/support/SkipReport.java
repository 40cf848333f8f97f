package io.switchboard.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Writes one line per skipped test (an assumption that failed, e.g. a missing tool, or a disabled
 * test) with its reason to the file named by the system property {@code switchboard.skip-report}, which
 * the build prints at the end of its test runs. Registered with the JUnit Platform through
 * {@code META-INF/services}; without the property it writes nothing.
 */
public final class SkipReport implements TestExecutionListener {
  private static final String FILE_PROPERTY = "switchboard.skip-report";

  @Override
  public void executionSkipped(TestIdentifier test, String reason) {
    write(test, reason);
  }

  @Override
  public void executionFinished(TestIdentifier test, TestExecutionResult result) {
    if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
      write(test, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
    }
  }

  private static void write(TestIdentifier test, String reason) {
    String file = System.getProperty(FILE_PROPERTY);
    if (file == null || file.isEmpty()) {
      return;
    }
    String edge = System.getProperty("switchboard.wss.edge");
    String line = "SKIPPED " + name(test) + (edge == null ? "" : " (" + edge + " edge)") + ": "
        + reason.replace('\n', ' ') + "\n";
    try {
      Path path = Path.of(file);
      Files.createDirectories(path.toAbsolutePath().getParent());
      Files.writeString(
          path, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code Class} or {@code Class.method}, from the test's unique id. */
  private static String name(TestIdentifier test) {
    String name = test.getLegacyReportingName();
    return test.getSource()
        .map(
            source ->
                source instanceof org.junit.platform.engine.support.descriptor.MethodSource method
                    ? simple(method.getClassName()) + "." + method.getMethodName()
                    : source instanceof org.junit.platform.engine.support.descriptor.ClassSource type
                        ? simple(type.getClassName())
                        : name)
        .orElse(name);
  }

  private static String simple(String className) {
    return className.substring(className.lastIndexOf('.') + 1);
  }
}
