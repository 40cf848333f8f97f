package io.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAPI document describes every route of the internal API and every wire record exactly. */
class OpenApiDocumentTest {
  private static final Set<String> HTTP_METHODS =
      Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  private static JsonNode document;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/openapi.yaml")) {
      assertNotNull(in, "openapi.yaml is on the classpath");
      document = new ObjectMapper(new YAMLFactory()).readTree(in);
    }
  }

  @Test
  void isAnOpenApi3Document() {
    assertTrue(document.path("openapi").asText().startsWith("3."), "openapi is 3.x");
    assertFalse(document.path("info").path("title").asText().isBlank(), "info has a title");
    assertFalse(document.path("info").path("version").asText().isBlank(), "info has a version");
  }

  @Test
  void everyRouteIsDocumented() {
    List<String> routes =
        List.of(
            "post /v1/users/{userId}/messages",
            "post /v1/messages",
            "get /v1/users/{userId}/presence",
            "post /v1/presence",
            "delete /v1/users/{userId}/connections",
            "get /v1/events",
            "get /v1/cluster",
            "get /v1/nodes",
            "get /metrics",
            "get /health/live",
            "get /health/ready");
    for (String route : routes) {
      String[] parts = route.split(" ");
      assertTrue(document.path("paths").path(parts[1]).has(parts[0]), route + " is documented");
    }
    assertEquals(Set.copyOf(routes), Set.copyOf(operations().keySet()), "no undocumented extras");
  }

  @Test
  void everyRouteButHealthNeedsTheBearerKeyAndDocumentsItsRefusal() {
    JsonNode scheme = document.at("/components/securitySchemes/apiKey");
    assertEquals("http", scheme.path("type").asText());
    assertEquals("bearer", scheme.path("scheme").asText());
    boolean globalKey = requiresApiKey(document.get("security"));

    operations().forEach((route, operation) -> {
      JsonNode security = operation.get("security");
      if (route.contains(" /health/")) {
        assertTrue(security != null && security.isArray() && security.isEmpty(), route + " needs no key");
      } else {
        boolean keyed = security == null ? globalKey : requiresApiKey(security);
        assertTrue(keyed, route + " needs the bearer API key");
        assertTrue(operation.path("responses").has("401"), route + " documents 401");
        assertTrue(operation.path("responses").has("403"), route + " documents 403");
      }
    });
  }

  @Test
  void everyErrorResponseIsAnApiError() {
    operations().forEach((route, operation) -> operation.path("responses").properties().forEach(entry -> {
      if (entry.getKey().startsWith("4") || entry.getKey().startsWith("5")) {
        JsonNode response = resolve(entry.getValue());
        assertEquals(
            "#/components/schemas/ApiError",
            response.at("/content/application~1json/schema/$ref").asText(),
            route + " " + entry.getKey() + " is an ApiError");
      }
    }));
  }

  @Test
  void everyReferenceResolvesToAComponent() {
    List<String> refs = new ArrayList<>();
    collectRefs(document, refs);
    assertTrue(refs.size() > 10, "the document uses its components");
    for (String ref : refs) {
      assertTrue(ref.startsWith("#/components/"), ref + " points into components");
      assertFalse(document.at(ref.substring(1)).isMissingNode(), ref + " resolves");
    }
  }

  @Test
  void everyWireRecordHasASchemaWithExactlyItsFields() {
    for (Class<?> record :
        List.of(ApiError.class, Delivery.class, MultiSendRequest.class, MultiSendResponse.class,
            ConnectionInfo.class, Presence.class, PresenceQuery.class, PresenceList.class,
            ConnectionsClosed.class, PresenceEvent.class, ClusterView.class,
            NodeStats.class)) {
      String name = record.getSimpleName();
      JsonNode schema = document.path("components").path("schemas").path(name);
      assertFalse(schema.isMissingNode(), name + " has a schema");
      Set<String> fields =
          Arrays.stream(record.getRecordComponents())
              .map(RecordComponent::getName)
              .collect(Collectors.toCollection(TreeSet::new));
      Set<String> documented = new TreeSet<>();
      schema.path("properties").properties().forEach(entry -> documented.add(entry.getKey()));
      assertEquals(fields, documented, name + " documents exactly its record's fields");
      schema.path("required").forEach(required ->
          assertTrue(fields.contains(required.asText()), name + " requires a real field " + required));
    }
  }

  /** Every operation of the document, keyed "method path". */
  private static Map<String, JsonNode> operations() {
    Map<String, JsonNode> operations = new TreeMap<>();
    document.path("paths").properties().forEach(path ->
        path.getValue().properties().forEach(operation -> {
          if (HTTP_METHODS.contains(operation.getKey())) {
            operations.put(operation.getKey() + " " + path.getKey(), operation.getValue());
          }
        }));
    return operations;
  }

  private static boolean requiresApiKey(JsonNode security) {
    if (security == null || !security.isArray() || security.isEmpty()) {
      return false;
    }
    for (JsonNode requirement : security) {
      if (!requirement.has("apiKey")) {
        return false; // an alternative without the key would let requests through without it
      }
    }
    return true;
  }

  private static JsonNode resolve(JsonNode node) {
    JsonNode ref = node.get("$ref");
    return ref == null ? node : resolve(document.at(ref.asText().substring(1)));
  }

  private static void collectRefs(JsonNode node, List<String> refs) {
    if (node.isObject()) {
      node.properties().forEach(field -> {
        if (field.getKey().equals("$ref")) {
          refs.add(field.getValue().asText());
        } else {
          collectRefs(field.getValue(), refs);
        }
      });
    } else if (node.isArray()) {
      node.forEach(child -> collectRefs(child, refs));
    }
  }
}
