package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.IntNode;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.protocol.control.ClientControl;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which client frames are control frames, and the frames that answer them. */
class ControlFramesTest {

  private static ClientControl parse(String text) {
    return ControlFrames.parse(InboundFrame.text(text));
  }

  @Test
  void onlyAJsonObjectWithTheControlKeyIsAControlFrame() {
    assertNull(parse("{\"text\": \"mentions $switchboard but is not a control frame\"}"));
    assertNull(parse("[\"$switchboard\"]"));
    assertNull(parse("{\"$switchboard\": broken"));
    assertNull(ControlFrames.parse(InboundFrame.binary(new byte[] {'{'})));
    assertInstanceOf(ClientControl.Refresh.class, parse("  {\"$switchboard\": \"refresh\", \"token\": \"t\"}"));
  }

  @Test
  void theCommandNamesTheRecordAndAnIdCountsOnlyAsAStringOrANumber() {
    ClientControl.Request request =
        assertInstanceOf(ClientControl.Request.class, parse("{\"$switchboard\": \"request\", \"id\": 7, \"data\": [1]}"));
    assertEquals(IntNode.valueOf(7), request.id());
    assertEquals("[1]", request.data().toString());
    assertNull(parse("{\"$switchboard\": \"request\", \"id\": {}, \"data\": 1}").id());
    assertEquals("", assertInstanceOf(ClientControl.Refresh.class, parse("{\"$switchboard\": \"refresh\"}")).token());
    assertEquals("dance",
        assertInstanceOf(ClientControl.Unknown.class, parse("{\"$switchboard\": \"dance\", \"id\": \"x\"}")).command());
  }

  @Test
  void envelopeDataIsTheDataTypesFrame() {
    ClientControl.Request request =
        (ClientControl.Request) parse("{\"$switchboard\": \"request\", \"id\": 1, \"data\": \"AQI=\"}");
    assertEquals("\"AQI=\"", ControlFrames.requestData(request.data(), DataType.JSON).text());
    assertEquals("AQI=", ControlFrames.requestData(request.data(), DataType.STRING).text());
    assertArrayEquals(new byte[] {1, 2}, ControlFrames.requestData(request.data(), DataType.BINARY).bytes());
    ClientControl.Request number = (ClientControl.Request) parse("{\"$switchboard\": \"request\", \"id\": 1, \"data\": 5}");
    assertEquals("binary data in a request envelope must be a base64 string",
        assertThrows(IllegalArgumentException.class,
            () -> ControlFrames.requestData(number.data(), DataType.BINARY)).getMessage());
  }

  @Test
  void answersAreWrittenInTheirWireOrder() {
    assertEquals("{\"error\":\"invalid JSON\",\"requestId\":\"r1\"}",
        ControlFrames.error("invalid JSON", "r1", null).text());
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"error\":\"timeout\",\"requestId\":\"r1\"}",
        ControlFrames.error("timeout", "r1", IntNode.valueOf(7)).text());
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"data\":{\"a\":1}}",
        ControlFrames.reply(IntNode.valueOf(7), OutboundMessage.of(Map.of("a", 1))).text());
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"data\":\"plain\"}",
        ControlFrames.reply(IntNode.valueOf(7), OutboundMessage.text("plain")).text());
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"binary\":\"AQI=\"}",
        ControlFrames.reply(IntNode.valueOf(7), OutboundMessage.of(new byte[] {1, 2})).text());
    assertEquals("{\"$switchboard\":\"reply\",\"id\":7,\"data\":null}",
        ControlFrames.reply(IntNode.valueOf(7), null).text());
    assertEquals("{\"$switchboard\":\"refreshed\",\"exp\":null}", ControlFrames.refreshed(null).text());
    assertEquals("{\"$switchboard\":\"dance\",\"error\":\"unknown\"}",
        ControlFrames.commandError("dance", "unknown").text());
  }
}
