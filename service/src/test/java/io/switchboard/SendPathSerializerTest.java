package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.presence.NodeFanout;
import io.switchboard.presence.SendPathSerializer;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.support.TestKitCluster;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The send path's messages cross nodes in {@link SendPathSerializer}'s format, as the shipped bindings
 * say, and come back equal: every kind of message, every ref; bad bytes are refused, not misread.
 */
class SendPathSerializerTest {
  /** Every kind, with characters beyond ASCII, and the empty ones. */
  private static final List<OutboundMessage> MESSAGES = List.of(
      OutboundMessage.json(new ObjectMapper().createObjectNode().put("n", 7).put("name", "Zoë ✓ 🚀")),
      OutboundMessage.text("hello, Zoë 🚀"),
      OutboundMessage.text(""),
      OutboundMessage.binary(new byte[] {0, 1, (byte) 0xff, 0x7f}),
      OutboundMessage.binary(new byte[0]));

  private static ActorTestKit testKit;
  private static Serialization serialization;
  private static SendPathSerializer serializer;

  @BeforeAll
  static void system() {
    testKit = ActorTestKit.create("SendPath", TestKitCluster.node(""));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
    serializer = (SendPathSerializer) serialization.serializerByIdentity().apply(
        SendPathSerializer.IDENTIFIER);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everySendPathMessageIsBoundToTheCompactSerializer() {
    OutboundMessage message = OutboundMessage.text("x");
    ActorRef<UserPresence.Delivered> replyTo = testKit.createTestProbe(UserPresence.Delivered.class)
        .getRef();
    for (Object each : List.of(
        new UserPresence.SendToUser(message, replyTo),
        new UserPresence.Delivered(2),
        new NodeFanout.Deliver(message, List.of()),
        new ToConnection.Deliver(message))) {
      assertInstanceOf(SendPathSerializer.class, serialization.findSerializerFor(each),
          each.getClass().getName());
    }
    assertInstanceOf(JacksonCborSerializer.class,
        serialization.findSerializerFor(new UserPresence.Unregister("c1")),
        "the other cross-node messages stay on Jackson");
  }

  @Test
  void everyKindOfMessageAndEveryRefComeBackEqualThroughBytesAndBuffers() throws Exception {
    ActorRef<UserPresence.Delivered> replyTo =
        testKit.createTestProbe(UserPresence.Delivered.class).getRef();
    List<ActorRef<ToConnection>> connections = List.of(
        testKit.createTestProbe(ToConnection.class).getRef(),
        testKit.createTestProbe(ToConnection.class).getRef(),
        testKit.createTestProbe(ToConnection.class).getRef());
    for (OutboundMessage message : MESSAGES) {
      for (Object back : roundTrips(new UserPresence.SendToUser(message, replyTo))) {
        UserPresence.SendToUser send = (UserPresence.SendToUser) back;
        assertSameMessage(message, send.message());
        assertEquals(replyTo, send.replyTo());
      }
      for (Object back : roundTrips(new NodeFanout.Deliver(message, connections))) {
        NodeFanout.Deliver batch = (NodeFanout.Deliver) back;
        assertSameMessage(message, batch.message());
        assertEquals(connections, batch.connections());
      }
      for (Object back : roundTrips(new ToConnection.Deliver(message))) {
        assertSameMessage(message, ((ToConnection.Deliver) back).message());
      }
    }
    for (int count : new int[] {0, 1, 50}) {
      for (Object back : roundTrips(new UserPresence.Delivered(count))) {
        assertEquals(new UserPresence.Delivered(count), back);
      }
    }
    for (Object back : roundTrips(new NodeFanout.Deliver(MESSAGES.get(1), List.of()))) {
      assertEquals(List.of(), ((NodeFanout.Deliver) back).connections());
    }
  }

  @Test
  void truncatedOrCorruptBytesAreRefusedNotMisread() {
    byte[] whole = serializer.toBinary(new ToConnection.Deliver(OutboundMessage.text("hello")));
    String manifest = serializer.manifest(new ToConnection.Deliver(OutboundMessage.text("hello")));
    for (int length = 0; length < whole.length; length++) {
      byte[] cut = Arrays.copyOf(whole, length);
      assertThrows(NotSerializableException.class, () -> serializer.fromBinary(cut, manifest),
          "cut to " + length + " bytes");
    }
    byte[] badKind = whole.clone();
    badKind[0] = 9;
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(badKind, manifest));
    byte[] hugeLength = ByteBuffer.allocate(5).put((byte) 1).putInt(Integer.MAX_VALUE).array();
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(hugeLength, manifest));
    byte[] negativeCount = ByteBuffer.allocate(9).put((byte) 1).putInt(0).putInt(-1).array();
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(
        negativeCount, serializer.manifest(new NodeFanout.Deliver(OutboundMessage.text(""), List.of()))));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(whole, "X9"));
  }

  /** Through the byte-array path (sharding's envelope) and the buffer path (Artery). */
  private static List<Object> roundTrips(Object message) throws NotSerializableException {
    String manifest = serializer.manifest(message);
    Object viaBytes = serializer.fromBinary(serializer.toBinary(message), manifest);
    // Artery's envelope buffers are direct and little-endian, with its header before the message.
    ByteBuffer buffer = ByteBuffer.allocateDirect(1024).order(ByteOrder.LITTLE_ENDIAN);
    buffer.putLong(0x0123456789abcdefL);
    serializer.toBinary(message, buffer);
    buffer.flip();
    buffer.position(Long.BYTES);
    Object viaBuffer = serializer.fromBinary(buffer, manifest);
    assertEquals(0, buffer.remaining(), "the whole message was read");
    return List.of(viaBytes, viaBuffer);
  }

  private static void assertSameMessage(OutboundMessage expected, OutboundMessage actual) {
    assertEquals(expected.kind(), actual.kind());
    assertEquals(expected.text(), actual.text());
    assertArrayEquals(expected.bytes(), actual.bytes());
  }
}
