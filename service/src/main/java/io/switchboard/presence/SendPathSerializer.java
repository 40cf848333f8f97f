package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.SendPathSerializable;
import io.switchboard.presence.UserPresence;
import java.io.NotSerializableException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The wire format of the four messages every send-to-user carries between nodes: {@link
 * UserPresence.SendToUser} (API node to the user's entity), {@link UserPresence.Delivered} (the answer),
 * {@link NodeFanout.Deliver} (entity to the devices' node) and {@link ToConnection.Deliver}. Every
 * other cross-node message stays on Jackson CBOR ({@link CborSerializable}); these four are {@link
 * SendPathSerializable}.
 *
 * <p>Why not Jackson for these: on three nodes Jackson's bean (de)serialization, a {@code Class.forName}
 * of the manifest per message and the ref's JSON wrapping were 8% of three nodes' CPU samples at 6,000
 * sends/s; with this format, 2%, most of it the refs' paths (perf, BENCHMARKS.md §5). Here a message is
 * a kind byte, length-prefixed UTF-8 or bytes and the refs' serialization format; Artery's buffer is
 * read without a copy.
 *
 * <p>Layout (big-endian): a message is {@code kind:u8 length:i32 bytes}, kind 0 JSON, 1 TEXT, 2 BINARY;
 * a ref or string is {@code length:i32 utf8}. SendToUser = message, ref; Delivered = count:i32;
 * NodeFanout.Deliver = message, count:i32, refs; ToConnection.Deliver = message. All nodes of a
 * cluster must run the same format: a change needs a new manifest, not an edit of an old one.
 */
public final class SendPathSerializer extends SerializerWithStringManifest
    implements ByteBufferSerializer {
  /** Unique among a system's serializers; Pekko's own are 0-40. */
  public static final int IDENTIFIER = 7301;

  private static final String SEND_TO_USER = "S1";
  private static final String DELIVERED = "D1";
  private static final String FANOUT_DELIVER = "F1";
  private static final String CONNECTION_DELIVER = "C1";

  private final ActorRefResolver resolver;

  public SendPathSerializer(ExtendedActorSystem system) {
    this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object message) {
    if (message instanceof UserPresence.SendToUser) {
      return SEND_TO_USER;
    }
    if (message instanceof UserPresence.Delivered) {
      return DELIVERED;
    }
    if (message instanceof NodeFanout.Deliver) {
      return FANOUT_DELIVER;
    }
    if (message instanceof ToConnection.Deliver) {
      return CONNECTION_DELIVER;
    }
    throw new IllegalArgumentException("not a send-path message: " + message.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object message) {
    if (message instanceof UserPresence.SendToUser send) {
      byte[] payload = payload(send.message());
      byte[] replyTo = ref(send.replyTo());
      ByteBuffer buffer = ByteBuffer.allocate(messageSize(payload) + stringSize(replyTo));
      putMessage(buffer, send.message().kind(), payload);
      putString(buffer, replyTo);
      return buffer.array();
    }
    if (message instanceof UserPresence.Delivered delivered) {
      return ByteBuffer.allocate(Integer.BYTES).putInt(delivered.connections()).array();
    }
    if (message instanceof NodeFanout.Deliver deliver) {
      byte[] payload = payload(deliver.message());
      List<byte[]> refs = new ArrayList<>(deliver.connections().size());
      int size = messageSize(payload) + Integer.BYTES;
      for (ActorRef<ToConnection> connection : deliver.connections()) {
        byte[] ref = ref(connection);
        refs.add(ref);
        size += stringSize(ref);
      }
      ByteBuffer buffer = ByteBuffer.allocate(size);
      putMessage(buffer, deliver.message().kind(), payload);
      buffer.putInt(refs.size());
      refs.forEach(ref -> putString(buffer, ref));
      return buffer.array();
    }
    if (message instanceof ToConnection.Deliver deliver) {
      byte[] payload = payload(deliver.message());
      ByteBuffer buffer = ByteBuffer.allocate(messageSize(payload));
      putMessage(buffer, deliver.message().kind(), payload);
      return buffer.array();
    }
    throw new IllegalArgumentException("not a send-path message: " + message.getClass().getName());
  }

  /** Artery's path: copied into its envelope buffer, as a byte array would be. */
  @Override
  public void toBinary(Object message, ByteBuffer buffer) {
    buffer.put(toBinary(message));
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    return read(ByteBuffer.wrap(bytes), manifest);
  }

  /** Artery's path: read straight from its envelope buffer, which is little-endian. */
  @Override
  public Object fromBinary(ByteBuffer envelope, String manifest) throws NotSerializableException {
    ByteBuffer buffer = envelope.slice().order(ByteOrder.BIG_ENDIAN);
    Object message = read(buffer, manifest);
    envelope.position(envelope.position() + buffer.position());
    return message;
  }

  private Object read(ByteBuffer buffer, String manifest) throws NotSerializableException {
    try {
      return switch (manifest) {
        case SEND_TO_USER -> {
          OutboundMessage message = readMessage(buffer);
          ActorRef<UserPresence.Delivered> replyTo = resolver.resolveActorRef(readString(buffer));
          yield new UserPresence.SendToUser(message, replyTo);
        }
        case DELIVERED -> new UserPresence.Delivered(buffer.getInt());
        case FANOUT_DELIVER -> {
          OutboundMessage message = readMessage(buffer);
          int count = readLength(buffer, Integer.BYTES);
          List<ActorRef<ToConnection>> refs = new ArrayList<>(count);
          for (int i = 0; i < count; i++) {
            refs.add(resolver.resolveActorRef(readString(buffer)));
          }
          yield new NodeFanout.Deliver(message, refs);
        }
        case CONNECTION_DELIVER -> new ToConnection.Deliver(readMessage(buffer));
        default -> throw new NotSerializableException("unknown send-path manifest " + manifest);
      };
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      NotSerializableException failure =
          new NotSerializableException("truncated or corrupt send-path message " + manifest);
      failure.initCause(e);
      throw failure;
    }
  }

  private static byte[] payload(OutboundMessage message) {
    return message.bytes() != null ? message.bytes() : message.text().getBytes(StandardCharsets.UTF_8);
  }

  private static int messageSize(byte[] payload) {
    return 1 + Integer.BYTES + payload.length;
  }

  private static int stringSize(byte[] utf8) {
    return Integer.BYTES + utf8.length;
  }

  private static void putMessage(ByteBuffer buffer, OutboundMessage.Kind kind, byte[] payload) {
    byte code =
        switch (kind) {
          case JSON -> 0;
          case TEXT -> 1;
          case BINARY -> 2;
        };
    buffer.put(code).putInt(payload.length).put(payload);
  }

  private static void putString(ByteBuffer buffer, byte[] utf8) {
    buffer.putInt(utf8.length).put(utf8);
  }

  private byte[] ref(ActorRef<?> ref) {
    return resolver.toSerializationFormat(ref).getBytes(StandardCharsets.UTF_8);
  }

  private static OutboundMessage readMessage(ByteBuffer buffer) {
    byte code = buffer.get();
    byte[] payload = new byte[readLength(buffer, 1)];
    buffer.get(payload);
    return switch (code) {
      case 0 -> new OutboundMessage(OutboundMessage.Kind.JSON, utf8(payload), null);
      case 1 -> new OutboundMessage(OutboundMessage.Kind.TEXT, utf8(payload), null);
      case 2 -> new OutboundMessage(OutboundMessage.Kind.BINARY, null, payload);
      default -> throw new IllegalArgumentException("unknown message kind " + code);
    };
  }

  private static String readString(ByteBuffer buffer) {
    byte[] bytes = new byte[readLength(buffer, 1)];
    buffer.get(bytes);
    return utf8(bytes);
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** A length or count that the rest of the buffer can hold ({@code unit} bytes each at least). */
  private static int readLength(ByteBuffer buffer, int unit) {
    int length = buffer.getInt();
    if (length < 0 || (long) length * unit > buffer.remaining()) {
      throw new IllegalArgumentException("length " + length + " beyond the message");
    }
    return length;
  }
}
