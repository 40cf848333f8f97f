package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The stable error codes are documented where users read them: each {@link ErrorCode} has a row in
 * the errors table of docs/http-api.md and of the OpenAPI document, and neither lists a code the API
 * does not give.
 */
class ErrorCodeDocTest {
  private static final Pattern ROW = Pattern.compile("^\\s*\\| (\\d{3}) \\| `([a-z_]+)` \\|", Pattern.MULTILINE);

  private static List<String> codes() {
    return Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).sorted().toList();
  }

  private static List<String> rows(String text) {
    List<String> found = new ArrayList<>();
    Matcher row = ROW.matcher(text);
    while (row.find()) {
      found.add(row.group(2));
    }
    return found.stream().sorted().toList();
  }

  @Test
  void theHttpApiPageHasARowPerCode() throws IOException {
    String page = Files.readString(Path.of("..", "docs", "http-api.md"));
    assertEquals(codes(), rows(page), "the errors table of docs/http-api.md");
  }

  @Test
  void theOpenApiDocumentHasARowPerCode() throws IOException {
    try (InputStream in =
        Objects.requireNonNull(getClass().getClassLoader().getResourceAsStream("openapi.yaml"))) {
      assertEquals(
          codes(),
          rows(new String(in.readAllBytes(), StandardCharsets.UTF_8)),
          "the errors table of openapi.yaml");
    }
  }
}
