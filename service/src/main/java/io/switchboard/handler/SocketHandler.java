package io.switchboard.handler;

import java.util.concurrent.CompletionStage;

/**
 * The app's handler of client messages, running in the node (the SPI). Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.switchboard.handler.SocketHandler}) or given
 * to {@code Switchboard.start(config, handler)}.
 *
 * <p>Each message a client sends becomes one call, in the order the client sent them; a connection's
 * next message is handed over only when the previous call has completed or timed out. The stage may
 * complete with a reply for this connection (an object goes out as JSON, a {@code String} as text,
 * {@code byte[]} as binary) or with null for no reply. A handler that throws, or whose stage fails, makes
 * the client get {@code {"error": "<message>", "requestId": ...}}; one that takes longer than the
 * timeout makes it get {@code {"error": "timeout", ...}}, and its late answer is dropped.
 *
 * <p>Called on an actor thread: return quickly and do slow work asynchronously.
 */
@FunctionalInterface
public interface SocketHandler {

  CompletionStage<?> handle(SocketRequest request, RequestSocket socket) throws Exception;
}
