package io.switchboard.loadtest;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;

/**
 * How a client of each server authenticates and receives: Switchboard takes the JWT at the upgrade and
 * sends each message as a JSON text frame; Socket.IO (Engine.IO 4, Socket.IO 5 protocol, WebSocket
 * transport) opens with {@code 0{...}}, takes the JWT in the namespace connect {@code 40{"token"}},
 * acknowledges with {@code 40{"sid"}}, pings with {@code 2} and sends {@code 42["message",{...}]}.
 */
enum Protocol {
  SWITCHBOARD {
    @Override
    URI socketUri(URI base) {
      return base;
    }

    @Override
    HttpHeaders upgradeHeaders(String token) {
      return new DefaultHttpHeaders().add("Authorization", "Bearer " + token);
    }
  },
  SOCKETIO {
    @Override
    URI socketUri(URI base) {
      return base.resolve("/socket.io/?EIO=4&transport=websocket");
    }

    @Override
    HttpHeaders upgradeHeaders(String token) {
      return new DefaultHttpHeaders();
    }
  };

  /** The WebSocket URI to open, from the server's ({@code ws://host:port/socket}, {@code ws://host:port}). */
  abstract URI socketUri(URI base);

  abstract HttpHeaders upgradeHeaders(String token);

  static Protocol parse(String name) {
    return switch (name) {
      case "switchboard" -> SWITCHBOARD;
      case "socketio" -> SOCKETIO;
      default -> throw new IllegalArgumentException("unknown server kind: " + name);
    };
  }

  String label() {
    return this == SWITCHBOARD ? "switchboard" : "socketio";
  }
}
