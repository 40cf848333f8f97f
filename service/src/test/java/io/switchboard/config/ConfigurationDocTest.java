package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md against reference.conf: every {@code switchboard.*} setting has a row with its
 * environment variable (the {@code ${?VAR}} beside it, or "—") and its default, and no row names a
 * setting or a variable the node does not read.
 */
class ConfigurationDocTest {
  private static final Path DOC = Path.of("..", "docs", "configuration.md");
  private static final Path RESOURCES = Path.of("src", "main", "resources");
  private static final Pattern OPTIONAL_ENV = Pattern.compile("\\$\\{\\?([A-Z0-9_]+)}");
  private static final Pattern LOGBACK_ENV = Pattern.compile("\\$\\{([A-Z0-9_]+):-");
  private static final Pattern CODE = Pattern.compile("`([^`]*)`");
  /** An environment variable's value while resolving: the setting it lands in shows which it is. */
  private static final String ENV_MARK = "\u0001env:";
  private static final String NO_ENV = "—";

  /** A setting in reference.conf: its default, as the doc writes it, and its variable (or "—"). */
  private record Setting(String defaultValue, String envVar) {}

  /** A table row of the doc: its first cell's setting, the variable and the default as written. */
  private record Row(String setting, String envVar, String defaultValue) {}

  private static Map<String, Setting> reference;
  private static List<Row> rows;

  @BeforeAll
  static void load() throws IOException {
    reference = referenceSettings();
    rows = docRows(Files.readAllLines(DOC));
  }

  @Test
  void everySettingInReferenceConfIsDocumented() {
    Map<String, Row> documented = new LinkedHashMap<>();
    rows.forEach(row -> documented.putIfAbsent(row.setting(), row));
    List<String> problems = new ArrayList<>();
    reference.forEach((setting, expected) -> {
      Row row = documented.get(setting);
      if (row == null) {
        problems.add(setting + " (env " + expected.envVar() + ", default " + expected.defaultValue()
            + ") has no row");
        return;
      }
      if (!row.envVar().equals(expected.envVar())) {
        problems.add(setting + ": the doc says env " + row.envVar() + ", reference.conf "
            + expected.envVar());
      }
      if (!row.defaultValue().equals(expected.defaultValue())) {
        problems.add(setting + ": the doc says default " + row.defaultValue() + ", reference.conf "
            + expected.defaultValue());
      }
    });
    assertEquals(List.of(), problems, "docs/configuration.md against reference.conf");
  }

  @Test
  void theDocListsNoSettingThatDoesNotExistAndEachOnce() {
    assertFalse(rows.isEmpty(), "no setting rows found in " + DOC);
    List<String> problems = new ArrayList<>();
    Map<String, Integer> seen = new TreeMap<>();
    for (Row row : rows) {
      if (!reference.containsKey(row.setting())) {
        problems.add(row.setting() + " is not a setting of reference.conf");
      }
      if (seen.merge(row.setting(), 1, Integer::sum) == 2) {
        problems.add(row.setting() + " has more than one row");
      }
    }
    assertEquals(List.of(), problems, "docs/configuration.md against reference.conf");
  }

  @Test
  void everyEnvironmentVariableInTheDocIsReadByTheNode() throws IOException {
    List<String> read = new ArrayList<>();
    read.addAll(matches(OPTIONAL_ENV, Files.readString(RESOURCES.resolve("reference.conf"))));
    read.addAll(matches(OPTIONAL_ENV, Files.readString(RESOURCES.resolve("switchboard-pekko.conf"))));
    read.addAll(matches(LOGBACK_ENV, Files.readString(RESOURCES.resolve("logback.xml"))));
    List<String> unknown = new ArrayList<>();
    for (String line : Files.readAllLines(DOC)) {
      List<String> cells = cells(line);
      if (cells.size() == 4) {
        Matcher variable = CODE.matcher(cells.get(1));
        while (variable.find()) {
          if (!read.contains(variable.group(1))) {
            unknown.add(variable.group(1));
          }
        }
      }
    }
    assertEquals(List.of(), unknown, "variables in docs/configuration.md that no config file reads");
  }

  /**
   * The {@code switchboard} subtree of reference.conf, resolved twice without the environment: once
   * with nothing set (the defaults), once with every {@code ${?VAR}} set to a mark naming it.
   */
  private static Map<String, Setting> referenceSettings() throws IOException {
    Config raw = ConfigFactory.parseResources("reference.conf").withOnlyPath("switchboard");
    Map<String, String> marks = new LinkedHashMap<>();
    String text = Files.readString(RESOURCES.resolve("reference.conf"));
    for (String variable : matches(OPTIONAL_ENV, text)) {
      marks.put(variable, ENV_MARK + variable);
    }
    // The doc writes the one system property reference.conf uses as it stands there.
    Config tmpdir = ConfigFactory.parseMap(Map.of("java.io.tmpdir", "${java.io.tmpdir}"));
    Config defaults =
        raw.withFallback(tmpdir).resolve(ConfigResolveOptions.noSystem()).withOnlyPath("switchboard");
    Config withEnv = raw.withFallback(ConfigFactory.parseMap(marks)).withFallback(tmpdir)
        .resolve(ConfigResolveOptions.noSystem());
    Map<String, Setting> settings = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> entry : defaults.entrySet()) {
      String path = entry.getKey();
      Object marked = withEnv.getValue(path).unwrapped();
      String envVar = marked instanceof String s && s.startsWith(ENV_MARK)
          ? s.substring(ENV_MARK.length())
          : NO_ENV;
      settings.put(path, new Setting(written(entry.getValue().unwrapped()), envVar));
    }
    return settings;
  }

  private static String written(Object value) {
    String text = String.valueOf(value);
    return text.isEmpty() ? "\"\"" : text;
  }

  /** Rows whose first cell is a {@code switchboard.*} setting: setting, variable, default, meaning. */
  private static List<Row> docRows(List<String> lines) {
    List<Row> found = new ArrayList<>();
    for (String line : lines) {
      List<String> cells = cells(line);
      if (cells.size() != 4) {
        continue;
      }
      Matcher setting = CODE.matcher(cells.get(0));
      if (!setting.matches() || !setting.group(1).startsWith("switchboard.")) {
        continue;
      }
      Matcher env = CODE.matcher(cells.get(1));
      String envVar = env.matches() ? env.group(1) : cells.get(1);
      Matcher defaultValue = CODE.matcher(cells.get(2));
      String written = defaultValue.find() ? defaultValue.group(1) : cells.get(2);
      found.add(new Row(setting.group(1), envVar, written));
    }
    return found;
  }

  private static List<String> cells(String line) {
    String trimmed = line.trim();
    if (!trimmed.startsWith("|") || !trimmed.endsWith("|") || trimmed.startsWith("|---")) {
      return List.of();
    }
    List<String> cells = new ArrayList<>();
    for (String cell : trimmed.substring(1, trimmed.length() - 1).split("\\|", -1)) {
      cells.add(cell.trim());
    }
    return cells;
  }

  private static List<String> matches(Pattern pattern, String text) {
    List<String> found = new ArrayList<>();
    Matcher matcher = pattern.matcher(text);
    while (matcher.find()) {
      found.add(matcher.group(1));
    }
    return found;
  }
}
