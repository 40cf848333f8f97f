package io.switchboard.cyclefixture.right;

import io.switchboard.cyclefixture.left.Left;

/** The other half of the deliberate package cycle. */
public final class Right {
  public Left left() {
    return new Left();
  }
}
