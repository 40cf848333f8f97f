package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every relative link of the repository's Markdown files (README.md, docs/*.md, the folders' READMEs)
 * names a file or folder that exists, and every {@code #anchor} a heading of the page it points to, as
 * GitHub makes heading anchors. Links to other sites and links inside code are not checked.
 */
class DocLinksTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern CODE_SPAN = Pattern.compile("`+[^`]*`+");
  private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

  private final Map<Path, Set<String>> anchors = new HashMap<>();

  @Test
  void everyRelativeLinkAndAnchorResolves() throws IOException {
    List<Path> pages = markdownPages();
    assertTrue(pages.contains(ROOT.resolve("README.md")), "README.md found under " + ROOT);
    assertTrue(pages.contains(ROOT.resolve("docs/design.md")), "docs/*.md found under " + ROOT);
    List<String> broken = new ArrayList<>();
    for (Path page : pages) {
      String text = withoutCode(Files.readAllLines(page));
      Matcher link = LINK.matcher(text);
      while (link.find()) {
        String problem = problem(page, link.group(1));
        if (problem != null) {
          int line = 1 + (int) text.substring(0, link.start()).chars().filter(c -> c == '\n').count();
          broken.add(ROOT.relativize(page) + ":" + line + ": " + link.group(1) + " (" + problem + ")");
        }
      }
    }
    assertEquals(List.of(), broken, "broken links in the Markdown files");
  }

  /** The page with its fenced blocks blanked and its code spans removed; lines stay where they were. */
  private static String withoutCode(List<String> lines) {
    StringBuilder text = new StringBuilder();
    boolean inFence = false;
    for (String line : lines) {
      if (line.stripLeading().startsWith("```")) {
        inFence = !inFence;
      } else if (!inFence) {
        text.append(CODE_SPAN.matcher(line).replaceAll(""));
      }
      text.append('\n');
    }
    return text.toString();
  }

  /** Why {@code target}, linked from {@code page}, does not resolve; null when it does or is external. */
  private String problem(Path page, String target) {
    if (SCHEME.matcher(target).find()) {
      return null;
    }
    int hash = target.indexOf('#');
    String file = hash < 0 ? target : target.substring(0, hash);
    Path linked = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
    if (!linked.startsWith(ROOT)) {
      return "outside the repository";
    }
    if (!Files.exists(linked)) {
      return "no such file";
    }
    if (hash < 0) {
      return null;
    }
    String anchor = target.substring(hash + 1);
    if (!linked.toString().endsWith(".md")) {
      return "an anchor into a file that is not Markdown";
    }
    return anchorsOf(linked).contains(anchor) ? null : "no heading with this anchor";
  }

  private Set<String> anchorsOf(Path page) {
    return anchors.computeIfAbsent(page, DocLinksTest::headingAnchors);
  }

  /** The anchors GitHub gives the page's headings (a repeated one gets -1, -2, ...). */
  private static Set<String> headingAnchors(Path page) {
    Set<String> found = new HashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean inFence = false;
    try {
      for (String line : Files.readAllLines(page)) {
        if (line.stripLeading().startsWith("```")) {
          inFence = !inFence;
          continue;
        }
        Matcher heading = HEADING.matcher(line);
        if (inFence || !heading.matches()) {
          continue;
        }
        String slug = slug(heading.group(1));
        int n = seen.merge(slug, 1, Integer::sum);
        found.add(n == 1 ? slug : slug + "-" + (n - 1));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  /** GitHub's heading anchor: lower case, links reduced to their text, punctuation dropped, spaces to -. */
  static String slug(String heading) {
    String text = heading.replaceAll("\\[([^\\]]*)]\\([^)]*\\)", "$1");
    StringBuilder slug = new StringBuilder();
    text.toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
      if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
        slug.appendCodePoint(c);
      } else if (c == ' ') {
        slug.append('-');
      }
    });
    return slug.toString();
  }

  @Test
  void headingAnchorsAreMadeAsGitHubMakesThem() {
    assertEquals("the-operators-console", slug("The operator's console"));
    assertEquals("apps-in-any-language-http-forwarding", slug("Apps in any language: HTTP forwarding"));
    assertEquals("outside-switchboard", slug("Outside `switchboard.*`"));
    assertEquals("4-connect-storms", slug("4. Connect storms"));
  }

  /** The Markdown files of the repository, outside build output, dependencies and hidden folders. */
  private static List<Path> markdownPages() throws IOException {
    List<Path> pages = new ArrayList<>();
    Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
        boolean skipped = !dir.equals(ROOT)
            && (name.startsWith(".") || name.equals("target") || name.equals("node_modules"));
        return skipped ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
        if (file.toString().endsWith(".md")) {
          pages.add(file);
        }
        return FileVisitResult.CONTINUE;
      }
    });
    pages.sort(null);
    return pages;
  }
}
