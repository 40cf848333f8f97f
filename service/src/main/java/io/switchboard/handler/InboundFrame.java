package io.switchboard.handler;

/** A complete message a client sent: text ({@code text} set) or binary ({@code bytes} set). */
public record InboundFrame(String text, byte[] bytes) {

  public static InboundFrame text(String text) {
    return new InboundFrame(text, null);
  }

  public static InboundFrame binary(byte[] bytes) {
    return new InboundFrame(null, bytes);
  }

  public boolean isBinary() {
    return bytes != null;
  }
}
