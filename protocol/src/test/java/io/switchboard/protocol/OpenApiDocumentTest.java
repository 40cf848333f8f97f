package io.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAPI document describes every route of the internal API and every wire record exactly. */
class OpenApiDocumentTest {
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
    assertTrue(document.get("openapi").asText().startsWith("3."));
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
            "get /health/live",
            "get /health/ready");
    for (String route : routes) {
      String[] parts = route.split(" ");
      assertTrue(document.path("paths").path(parts[1]).has(parts[0]), route + " is documented");
    }
  }

  @Test
  void everyRouteButHealthNeedsTheKeyAndDocumentsItsRefusal() {
    assertEquals("bearer", document.at("/components/securitySchemes/apiKey/scheme").asText());
    document.get("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(op -> {
      boolean health = path.getKey().startsWith("/health/");
      JsonNode security = op.getValue().get("security");
      if (health) {
        assertTrue(security != null && security.isEmpty(), path.getKey() + " needs no key");
      } else {
        assertTrue(security == null, path.getKey() + " uses the global bearer security");
        assertTrue(op.getValue().path("responses").has("401"), path.getKey() + " documents 401");
        assertTrue(op.getValue().path("responses").has("403"), path.getKey() + " documents 403");
      }
    }));
  }

  @Test
  void everyReferenceResolves() {
    List<String> refs = new ArrayList<>();
    collectRefs(document, refs);
    assertTrue(refs.size() > 10);
    for (String ref : refs) {
      assertTrue(ref.startsWith("#/"), ref);
      assertTrue(!document.at(ref.substring(1)).isMissingNode(), ref + " resolves");
    }
  }

  private static void collectRefs(JsonNode node, List<String> refs) {
    if (node.isObject()) {
      node.fields().forEachRemaining(field -> {
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

  @Test
  void everyWireRecordHasASchemaWithExactlyItsFields() {
    for (Class<?> record :
        List.of(ApiError.class, Delivery.class, MultiSendRequest.class, MultiSendResponse.class,
            ConnectionInfo.class, Presence.class, PresenceQuery.class, PresenceList.class,
            ConnectionsClosed.class, PresenceEvent.class)) {
      JsonNode schema = document.at("/components/schemas/" + record.getSimpleName());
      assertTrue(!schema.isMissingNode(), record.getSimpleName() + " has a schema");
      Set<String> documented = new TreeSet<>();
      schema.get("properties").fieldNames().forEachRemaining(documented::add);
      Set<String> fields = new TreeSet<>();
      Arrays.stream(record.getRecordComponents()).map(RecordComponent::getName).forEach(fields::add);
      assertEquals(fields, documented, record.getSimpleName());
    }
  }
}
