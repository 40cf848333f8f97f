package io.switchboard.protocol.control;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The answer to a {@link ClientControl.Refresh} that moved the connection's expiry: {@code
 * {"$switchboard": "refreshed", "exp": ...}}, the new token's {@code exp} claim as it was (null when it has
 * none).
 */
@JsonPropertyOrder({ClientControl.KEY, "exp"})
public record Refreshed(Object exp) {

  @JsonProperty(ClientControl.KEY)
  public String kind() {
    return "refreshed";
  }
}
