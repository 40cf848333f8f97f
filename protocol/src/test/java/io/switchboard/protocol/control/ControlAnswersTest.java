package io.switchboard.protocol.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

/** The node's answers to control frames, byte for byte as clients (and the README) know them. */
class ControlAnswersTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aReplyCarriesTheKindAndIdFirstThenItsDataBinaryOrError() throws Exception {
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"data\":{\"echo\":1}}",
        JSON.writeValueAsString(Reply.data(IntNode.valueOf(7), JSON.readTree("{\"echo\":1}"))));
    assertEquals("{\"$switchboard\":\"reply\",\"id\":\"a\",\"data\":\"plain\"}",
        JSON.writeValueAsString(Reply.data(TextNode.valueOf("a"), TextNode.valueOf("plain"))));
    assertEquals("{\"$switchboard\":\"reply\",\"id\":8,\"binary\":\"AQI=\"}",
        JSON.writeValueAsString(Reply.binary(IntNode.valueOf(8), "AQI=")));
    assertEquals("{\"$switchboard\":\"reply\",\"id\":10,\"error\":\"no such room\",\"requestId\":\"r1\"}",
        JSON.writeValueAsString(Reply.error(IntNode.valueOf(10), "no such room", "r1")));
  }

  @Test
  void aReplyToAHandlerThatAnsweredNothingHasDataNull() throws Exception {
    assertEquals("{\"$switchboard\":\"reply\",\"id\":9,\"data\":null}",
        JSON.writeValueAsString(Reply.data(IntNode.valueOf(9), null)));
  }

  @Test
  void refreshedCarriesTheNewExpOrNull() throws Exception {
    assertEquals("{\"$switchboard\":\"refreshed\",\"exp\":1767225600}",
        JSON.writeValueAsString(new Refreshed(1767225600L)));
    assertEquals("{\"$switchboard\":\"refreshed\",\"exp\":null}", JSON.writeValueAsString(new Refreshed(null)));
  }

  @Test
  void aCommandErrorNamesTheCommandThenWhy() throws Exception {
    assertEquals("{\"$switchboard\":\"refresh\",\"error\":\"invalid token signature\"}",
        JSON.writeValueAsString(new CommandError("refresh", "invalid token signature")));
  }
}
