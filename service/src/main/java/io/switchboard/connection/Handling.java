package io.switchboard.connection;

import io.switchboard.auth.TokenVerifier;
import io.switchboard.handler.DataType;
import io.switchboard.handler.SocketHandler;
import io.switchboard.messaging.Messaging;
import java.time.Duration;

/**
 * How a node handles client messages: the handler (null: none configured), the data type it takes, its
 * timeout, and the per-connection bounds. {@code maxInFlight}: outstanding requests (handed to the
 * handler or waiting for it) beyond which the node stops reading from the socket; {@code maxQueued}:
 * outstanding requests beyond which the connection is closed with 1013. {@code ratePerSecond} and
 * {@code rateBurst}: a token bucket per connection; a message beyond it is answered with
 * {@code {"error": "rate limit exceeded"}} and not handed to the handler (0: no limit). {@code tokens}
 * verifies the tokens of refresh frames (null: refresh is not offered).
 */
public record Handling(
    SocketHandler handler,
    DataType dataType,
    Duration timeout,
    int maxInFlight,
    int maxQueued,
    double ratePerSecond,
    int rateBurst,
    TokenVerifier tokens,
    Messaging messaging) {}
