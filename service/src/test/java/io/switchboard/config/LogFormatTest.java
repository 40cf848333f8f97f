package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The node's logback.xml: LOG_FORMAT=json gives one JSON object per line, with the MDC. */
class LogFormatTest {

  private static String logWith(String format) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      context.putProperty("LOG_FORMAT", format);
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      context.getMDCAdapter().put("userId", "ann");
      context.getLogger("io.switchboard.Test").info("connection {} opened", "c-1");
    } finally {
      context.stop();
      System.setOut(original);
    }
    return captured.toString(StandardCharsets.UTF_8).trim();
  }

  @Test
  void jsonLinesCarryLevelLoggerTheFormattedMessageAndTheMdc() throws Exception {
    JsonNode line = new ObjectMapper().readTree(logWith("json"));
    assertEquals("INFO", line.get("level").asText());
    assertEquals("io.switchboard.Test", line.get("loggerName").asText());
    assertEquals("connection c-1 opened", line.get("formattedMessage").asText());
    assertEquals("ann", line.get("mdc").get("userId").asText());
  }

  @Test
  void textIsTheDefault() throws Exception {
    String line = logWith("text");
    assertTrue(line.endsWith("INFO  io.switchboard.Test - connection c-1 opened"), "[" + line + "]");
  }
}
