package io.switchboard.cyclefixture.left;

import io.switchboard.cyclefixture.right.Right;

/** Half of a deliberate package cycle, for {@code PackageCyclesTest} to prove it catches one. */
public final class Left {
  public Right right() {
    return new Right();
  }
}
