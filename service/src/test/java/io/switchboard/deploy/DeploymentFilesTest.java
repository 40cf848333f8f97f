package io.switchboard.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The deployment files (deploy/kubernetes, deploy/docker-compose.yml) checked against each other and
 * against the service: what a typo or a renamed setting would break, without a Kubernetes cluster.
 */
class DeploymentFilesTest {
  private static final Path DEPLOY = Path.of("..", "deploy");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final List<JsonNode> manifests = new ArrayList<>();
  private static Set<String> settingVariables;

  @BeforeAll
  static void load() throws IOException {
    try (Stream<Path> files = Files.list(DEPLOY.resolve("kubernetes"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        try (JsonParser parser = YAML.getFactory().createParser(file.toFile())) {
          YAML.readValues(parser, JsonNode.class).forEachRemaining(doc -> {
            if (doc != null && !doc.isEmpty()) {
              manifests.add(doc);
            }
          });
        }
      }
    }
    String reference =
        Files.readString(Path.of("src", "main", "resources", "reference.conf"));
    settingVariables = new TreeSet<>();
    Matcher matcher = Pattern.compile("\\$\\{\\?([A-Z0-9_]+)}").matcher(reference);
    while (matcher.find()) {
      settingVariables.add(matcher.group(1));
    }
  }

  @Test
  void everyManifestHasApiVersionKindAndName() {
    assertTrue(manifests.size() >= 8, "rbac (3), services (3), statefulset, secret example");
    for (JsonNode doc : manifests) {
      assertFalse(doc.path("apiVersion").asText().isEmpty(), doc.toString());
      assertFalse(doc.path("kind").asText().isEmpty(), doc.toString());
      assertFalse(doc.path("metadata").path("name").asText().isEmpty(), doc.toString());
    }
  }

  @Test
  void theStatefulSetSelectsItsPodsAndNamesItsHeadlessService() {
    JsonNode set = one("StatefulSet", "switchboard");
    JsonNode podLabels = set.at("/spec/template/metadata/labels");
    set.at("/spec/selector/matchLabels").properties().forEach(label ->
        assertEquals(label.getValue(), podLabels.get(label.getKey()), "selector label " + label.getKey()));
    JsonNode headless = one("Service", set.at("/spec/serviceName").asText());
    assertEquals("None", headless.at("/spec/clusterIP").asText());
    assertTrue(headless.at("/spec/publishNotReadyAddresses").asBoolean());
    for (JsonNode service : all("Service")) {
      service.at("/spec/selector").properties().forEach(label ->
          assertEquals(label.getValue(), podLabels.get(label.getKey()),
              service.at("/metadata/name") + " selects the pods"));
      Set<String> ports = portNames(set);
      service.at("/spec/ports").forEach(port ->
          assertTrue(ports.contains(port.get("targetPort").asText()),
              service.at("/metadata/name") + " targets a named container port: " + port));
    }
  }

  @Test
  void everyEnvironmentVariableIsOneTheNodeReads() throws IOException {
    JsonNode container = one("StatefulSet", "switchboard").at("/spec/template/spec/containers/0");
    Set<String> used = new TreeSet<>();
    container.get("env").forEach(variable -> used.add(variable.get("name").asText()));
    assertTrue(used.containsAll(Set.of("CLUSTER_HOST", "CLUSTER_DISCOVERY", "JWT_SECRET", "API_KEY")));
    assertKnown(used, "deploy/kubernetes/statefulset.yaml");

    JsonNode compose = YAML.readTree(DEPLOY.resolve("docker-compose.yml").toFile());
    Set<String> composeVariables = new TreeSet<>();
    compose.get("services").properties().forEach(service -> {
      JsonNode environment = service.getValue().get("environment");
      if (environment != null && service.getKey().startsWith("node")) {
        // ("<<" is a YAML merge of node1's environment, which Jackson leaves unresolved.)
        environment.fieldNames().forEachRemaining(name -> {
          if (!name.equals("<<")) {
            composeVariables.add(name);
          }
        });
      }
    });
    assertTrue(composeVariables.containsAll(Set.of("SEED_NODES", "CLUSTER_HOST", "JWT_SECRET")));
    assertKnown(composeVariables, "deploy/docker-compose.yml");
  }

  private static void assertKnown(Set<String> used, String where) {
    Set<String> unknown = new TreeSet<>(used);
    unknown.removeAll(settingVariables);
    assertTrue(unknown.isEmpty(), where + " sets variables the node does not read: " + unknown);
  }

  @Test
  void probesUseTheHealthRoutesOnTheApiPortAndDiscoveryFindsTheManagementPort() {
    JsonNode set = one("StatefulSet", "switchboard");
    JsonNode container = set.at("/spec/template/spec/containers/0");
    Map<String, String> env = env(container);
    assertEquals("/health/ready", container.at("/readinessProbe/httpGet/path").asText());
    assertEquals("/health/live", container.at("/livenessProbe/httpGet/path").asText());
    Map<String, Integer> ports = new HashMap<>();
    container.get("ports").forEach(p -> ports.put(p.get("name").asText(), p.get("containerPort").asInt()));
    assertEquals("api", container.at("/readinessProbe/httpGet/port").asText());
    assertEquals(Integer.parseInt(env.get("API_PORT")), ports.get("api"));
    assertEquals(Integer.parseInt(env.get("WSS_PORT")), ports.get("ws"));
    assertEquals(Integer.parseInt(env.get("MANAGEMENT_PORT")), ports.get("management"));
    assertEquals(25520, ports.get("remoting"), "the default CLUSTER_PORT");

    assertEquals("kubernetes-api", env.get("CLUSTER_DISCOVERY"));
    // kubernetes-api discovery selects pods with app=<service name>.
    assertEquals(env.get("CLUSTER_SERVICE_NAME"), set.at("/spec/template/metadata/labels/app").asText());
    assertTrue(Integer.parseInt(env.get("CLUSTER_REQUIRED_CONTACTS")) <= set.at("/spec/replicas").asInt());
    assertEquals("Parallel", set.at("/spec/podManagementPolicy").asText());
  }

  @Test
  void thePodsServiceAccountMayListPods() {
    String account = one("StatefulSet", "switchboard").at("/spec/template/spec/serviceAccountName").asText();
    one("ServiceAccount", account);
    JsonNode binding = all("RoleBinding").stream()
        .filter(b -> b.at("/subjects/0/name").asText().equals(account))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no RoleBinding for " + account));
    JsonNode role = one("Role", binding.at("/roleRef/name").asText());
    boolean podsListed = false;
    for (JsonNode rule : role.get("rules")) {
      Set<String> verbs = new TreeSet<>();
      rule.get("verbs").forEach(v -> verbs.add(v.asText()));
      if (rule.get("resources").toString().contains("\"pods\"") && verbs.containsAll(Set.of("get", "list", "watch"))) {
        podsListed = true;
      }
    }
    assertTrue(podsListed, "the Role grants get/list/watch on pods");
  }

  private static Map<String, String> env(JsonNode container) {
    Map<String, String> env = new HashMap<>();
    container.get("env").forEach(v -> {
      if (v.has("value")) {
        env.put(v.get("name").asText(), v.get("value").asText());
      }
    });
    return env;
  }

  private static Set<String> portNames(JsonNode set) {
    Set<String> names = new TreeSet<>();
    set.at("/spec/template/spec/containers/0/ports").forEach(p -> names.add(p.get("name").asText()));
    return names;
  }

  private static List<JsonNode> all(String kind) {
    return manifests.stream().filter(m -> m.get("kind").asText().equals(kind)).toList();
  }

  private static JsonNode one(String kind, String name) {
    return all(kind).stream()
        .filter(m -> m.at("/metadata/name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
  }
}
