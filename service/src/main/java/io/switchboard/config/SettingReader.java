package io.switchboard.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigResolver;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the node's settings, each checked against its allowed values. A value that cannot be parsed
 * or is out of range is refused with one line naming its environment variable (where reference.conf
 * reads one), its path, what is allowed and what was given: {@code API_ASK_TIMEOUT
 * (switchboard.api.ask-timeout) must be a duration above 0s, got '-3s'}.
 */
final class SettingReader {
  /** A variable's value while reading reference.conf for its variables: the setting it lands in. */
  private static final String MARK = "\u0001env:";
  private static final Pattern ENV_NAME = Pattern.compile("[A-Z][A-Z0-9_]*");
  private static final Map<String, String> VARIABLES = variables();

  private final Config config;

  SettingReader(Config config) {
    this.config = config;
  }

  String string(String path) {
    return read(path, "a string", () -> config.getString(path));
  }

  boolean flag(String path) {
    return read(path, "true or false", () -> config.getBoolean(path));
  }

  /** A duration of {@code min} or more; above 0 when {@code min} is zero and {@code above} is set. */
  Duration duration(String path, Duration min, boolean above) {
    String rule = "a duration " + (above ? "above " : "of at least ") + written(min);
    Duration value = read(path, rule + " (such as 500ms, 10s, 2m)", () -> config.getDuration(path));
    int compared = value.compareTo(min);
    if (compared < 0 || (above && compared == 0)) {
      throw refused(path, rule);
    }
    return value;
  }

  Duration positiveDuration(String path) {
    return duration(path, Duration.ZERO, true);
  }

  Duration nonNegativeDuration(String path) {
    return duration(path, Duration.ZERO, false);
  }

  /** A duration from {@code min} to {@code max}, both included. */
  Duration durationBetween(String path, Duration min, Duration max) {
    String rule = "a duration from " + written(min) + " to " + written(max);
    Duration value = read(path, rule, () -> config.getDuration(path));
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw refused(path, rule);
    }
    return value;
  }

  int count(String path, int min) {
    return count(path, min, Integer.MAX_VALUE);
  }

  int count(String path, int min, int max) {
    String rule = max == Integer.MAX_VALUE
        ? "a whole number of at least " + min
        : "a whole number from " + min + " to " + max;
    // getInt would take 1.5 as 1.
    Number value = read(path, rule, () -> config.getNumber(path));
    if (!(value instanceof Integer || value instanceof Long)
        || value.longValue() < min || value.longValue() > max) {
      throw refused(path, rule);
    }
    return value.intValue();
  }

  int port(String path) {
    return count(path, 0, 65535);
  }

  double rate(String path) {
    String rule = "a number of at least 0";
    double value = read(path, rule, () -> config.getDouble(path));
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw refused(path, rule);
    }
    return value;
  }

  /** A size in bytes ({@code 64KiB}, {@code 1MiB}, a plain number) from 1 byte to 2 GiB - 1. */
  int size(String path) {
    String rule = "a size from 1 byte to 2GiB (such as 64KiB, 1MiB)";
    long value = read(path, rule, () -> config.getBytes(path));
    if (value < 1 || value > Integer.MAX_VALUE) {
      throw refused(path, rule);
    }
    return (int) value;
  }

  /** One of {@code choices}' keys, in any case. */
  <T> T choice(String path, Map<String, T> choices) {
    String rule = "one of " + String.join(", ", new java.util.TreeSet<>(choices.keySet()));
    String value = string(path);
    T chosen = choices.get(value.trim().toLowerCase(Locale.ROOT));
    if (chosen == null) {
      throw refused(path, rule);
    }
    return chosen;
  }

  /** A refusal of {@code path}'s value for a reason of the caller's: "X (path) must be ..., got '...'". */
  IllegalArgumentException refused(String path, String rule) {
    return new IllegalArgumentException(name(path) + " must be " + rule + ", got '" + given(path) + "'");
  }

  /** How a message names a setting: its environment variable and path, or its path alone. */
  static String name(String path) {
    String variable = VARIABLES.get(path);
    return variable == null ? path : variable + " (" + path + ")";
  }

  private <T> T read(String path, String rule, java.util.function.Supplier<T> getter) {
    try {
      return getter.get();
    } catch (ConfigException.Missing missing) {
      throw new IllegalArgumentException(name(path) + " is not set; it must be " + rule);
    } catch (ConfigException.WrongType | ConfigException.BadValue bad) {
      throw refused(path, rule);
    }
  }

  private String given(String path) {
    try {
      ConfigValue value = config.getValue(path);
      return String.valueOf(value.unwrapped());
    } catch (ConfigException e) {
      return "";
    }
  }

  private static String written(Duration duration) {
    if (duration.isZero()) {
      return "0s";
    }
    if (duration.toMillis() % 1000 != 0) {
      return duration.toMillis() + "ms";
    }
    return duration.toSeconds() + "s";
  }

  /**
   * The environment variable of each setting that reads one ({@code x = ${?VAR}} in reference.conf or
   * switchboard-pekko.conf): both files resolved with every variable set to a mark naming it.
   */
  private static Map<String, String> variables() {
    ConfigResolver marks = new ConfigResolver() {
      @Override
      public ConfigValue lookup(String path) {
        return ENV_NAME.matcher(path).matches()
            ? ConfigValueFactory.fromAnyRef(MARK + path, "environment variable " + path)
            : ConfigValueFactory.fromAnyRef("");
      }

      @Override
      public ConfigResolver withFallback(ConfigResolver fallback) {
        return this;
      }
    };
    Config raw = ConfigFactory.parseResources("switchboard-pekko.conf")
        .withOnlyPath("pekko.cluster.sharding")
        .withFallback(ConfigFactory.parseResources("reference.conf").withOnlyPath("switchboard"));
    Config marked = raw.resolve(ConfigResolveOptions.noSystem().appendResolver(marks));
    Map<String, String> variables = new HashMap<>();
    marked.entrySet().forEach(entry -> {
      if (entry.getValue().unwrapped() instanceof String s && s.startsWith(MARK)) {
        variables.put(entry.getKey(), s.substring(MARK.length()));
      }
    });
    return Map.copyOf(variables);
  }
}
