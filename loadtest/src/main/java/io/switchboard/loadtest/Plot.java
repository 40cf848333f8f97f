package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The report's PNG plots, drawn with Java2D from the results files (no plotting library): latency
 * percentiles against the send rate, and memory against open connections.
 */
final class Plot {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int WIDTH = 900;
  private static final int HEIGHT = 520;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private Plot() {}

  /** A line: its label, colour, dashed or not, and its (x, y) points. */
  record Series(String label, Color color, boolean dashed, List<double[]> points) {}

  static void all(Path results) throws IOException {
    List<Series> latency = new ArrayList<>();
    List<Series> memory = new ArrayList<>();
    List<Series> slow = new ArrayList<>();
    double mib = 1.0 / (1024 * 1024);
    for (String server : List.of("switchboard", "socketio")) {
      Color color = server.equals("switchboard") ? new Color(0x2f5fd0) : new Color(0xd0702f);
      JsonNode readers = read(results.resolve("slow-readers-" + server + ".json"));
      if (readers != null) {
        slow.add(series(server + " RSS", color, false, readers.path("samples"), "seconds", "rssBytes", mib));
        slow.add(
            series(server + " live heap", color, true, readers.path("samples"), "seconds", "heapBytes", mib));
      }
      // One node with the old sender (2026-12-01) and with the Netty sender (run-all's "nettysender");
      // 3 nodes with the send path's own format (run-all's "median3"): the current figures.
      for (String run : List.of("throughput-" + server, "throughput-" + server + "-nettysender",
          "cluster-" + server + "-median3")) {
        JsonNode result = read(results.resolve(run + ".json"));
        if (result == null) {
          continue;
        }
        boolean cluster = run.startsWith("cluster");
        boolean current = run.endsWith("-nettysender");
        String label = server + (cluster ? " (3 nodes)" : current ? " (Netty sender)" : " (old sender)");
        Color shade = cluster ? color.darker() : current ? color.brighter() : color;
        latency.add(series(label + " p50", shade, true, result.path("steps"), "sentPerSecond", "p50ms", 1));
        latency.add(series(label + " p99", shade, false, result.path("steps"), "sentPerSecond", "p99ms", 1));
      }
      for (String suffix : List.of("", "-tls", "-tlsproxy")) {
        JsonNode result = read(results.resolve("capacity-" + server + suffix + ".json"));
        if (result == null) {
          continue;
        }
        // With HAProxy in front, its memory counts too: the server's and the proxy's RSS added.
        boolean proxied = suffix.equals("-tlsproxy");
        String label = server + switch (suffix) {
          case "" -> " plain";
          case "-tls" -> " TLS";
          default -> " + HAProxy TLS";
        };
        List<double[]> points = new ArrayList<>();
        // The empty server first, so that the slope (memory per connection) shows.
        JsonNode baseline = result.path("baseline");
        points.add(new double[] {0, (baseline.path("rssBytes").asDouble()
            + (proxied ? baseline.path("proxyRssBytes").asDouble() : 0)) * mib});
        result.path("steps").forEach(step -> points.add(new double[] {step.path("connections").asDouble(),
            (step.path("rssBytes").asDouble() + (proxied ? step.path("proxyRssBytes").asDouble() : 0)) * mib}));
        memory.add(new Series(label, proxied ? color.darker() : color, suffix.equals("-tls"), points));
      }
    }
    if (!latency.isEmpty()) {
      draw(results.resolve("latency-vs-rate.png"), "Latency (API send to client receipt) vs rate",
          "messages sent per second (each to 2 devices)", "ms (log scale)", latency, true);
    }
    if (!slow.isEmpty()) {
      draw(results.resolve("slow-readers.png"), "Server memory while 1,000 clients never read",
          "seconds since the sends began", "MiB", slow, false);
    }
    if (!memory.isEmpty()) {
      draw(results.resolve("memory-vs-connections.png"), "Server RSS vs idle authenticated connections",
          "connections", "RSS (MB)", memory, false);
    }
  }

  private static JsonNode read(Path file) throws IOException {
    return Files.exists(file) ? JSON.readTree(file.toFile()) : null;
  }

  private static Series series(
      String label, Color color, boolean dashed, JsonNode steps, String x, String y, double scale) {
    List<double[]> points = new ArrayList<>();
    steps.forEach(
        step -> points.add(new double[] {step.path(x).asDouble(), step.path(y).asDouble() * scale}));
    return new Series(label, color, dashed, points);
  }

  static void draw(Path file, String title, String xLabel, String yLabel, List<Series> series, boolean logY)
      throws IOException {
    double maxX = 0;
    double minY = Double.MAX_VALUE;
    double maxY = 0;
    for (Series s : series) {
      for (double[] p : s.points()) {
        maxX = Math.max(maxX, p[0]);
        maxY = Math.max(maxY, p[1]);
        minY = Math.min(minY, p[1]);
      }
    }
    maxX = niceCeiling(maxX);
    double low = logY ? Math.pow(10, Math.floor(Math.log10(Math.max(0.01, minY)))) : 0;
    double high = logY ? Math.pow(10, Math.ceil(Math.log10(Math.max(maxY, low * 10)))) : niceCeiling(maxY);
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.setColor(Color.DARK_GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    // grid and ticks
    for (int i = 0; i <= 5; i++) {
      double xv = maxX * i / 5;
      int x = LEFT + plotW * i / 5;
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(x, TOP, x, TOP + plotH);
      g.setColor(Color.DARK_GRAY);
      g.drawString(format(xv), x - 15, TOP + plotH + 18);
    }
    List<Double> yTicks = new ArrayList<>();
    if (logY) {
      for (double v = low; v <= high * 1.0001; v *= 10) {
        yTicks.add(v);
      }
    } else {
      for (int i = 0; i <= 5; i++) {
        yTicks.add(high * i / 5);
      }
    }
    for (double v : yTicks) {
      int y = yPixel(v, low, high, logY, plotH);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(LEFT, y, LEFT + plotW, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(format(v), 10, y + 4);
    }
    g.drawRect(LEFT, TOP, plotW, plotH);
    g.drawString(xLabel, LEFT + plotW / 2 - 100, HEIGHT - 15);
    g.drawString(yLabel, 10, TOP - 10);
    // lines and legend
    int legendY = TOP + 20;
    for (Series s : series) {
      g.setColor(s.color());
      g.setStroke(s.dashed()
          ? new BasicStroke(2, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1, new float[] {6, 5}, 0)
          : new BasicStroke(2.5f));
      int[] previous = null;
      for (double[] p : s.points()) {
        int x = LEFT + (int) (plotW * p[0] / maxX);
        int y = yPixel(Math.max(p[1], low), low, high, logY, plotH);
        g.fillOval(x - 3, y - 3, 6, 6);
        if (previous != null) {
          g.drawLine(previous[0], previous[1], x, y);
        }
        previous = new int[] {x, y};
      }
      g.drawLine(WIDTH - RIGHT - 230, legendY - 4, WIDTH - RIGHT - 200, legendY - 4);
      g.setColor(Color.DARK_GRAY);
      g.drawString(s.label(), WIDTH - RIGHT - 192, legendY);
      legendY += 18;
    }
    g.dispose();
    ImageIO.write(image, "png", file.toFile());
    System.out.println("wrote " + file);
  }

  private static int yPixel(double v, double low, double high, boolean logY, int plotH) {
    double f = logY ? (Math.log10(v) - Math.log10(low)) / (Math.log10(high) - Math.log10(low)) : v / high;
    return TOP + plotH - (int) (plotH * Math.max(0, Math.min(1, f)));
  }

  private static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * magnitude >= v) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String format(double v) {
    if (v >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    return v >= 10 || v == 0 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
  }
}
