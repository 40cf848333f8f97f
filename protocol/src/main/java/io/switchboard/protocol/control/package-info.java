/**
 * Control frames: the JSON text frames with the key {@value
 * io.switchboard.protocol.control.ClientControl#KEY} by which a client controls its connection instead
 * of messaging the app ({@link io.switchboard.protocol.control.ClientControl}), and the node's answers
 * to them ({@link io.switchboard.protocol.control.Reply}, {@link
 * io.switchboard.protocol.control.Refreshed}, {@link io.switchboard.protocol.control.CommandError}).
 * The answers serialize with their fields in the order documented in the README.
 */
package io.switchboard.protocol.control;
