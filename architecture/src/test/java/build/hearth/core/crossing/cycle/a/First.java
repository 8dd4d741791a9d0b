package build.hearth.core.crossing.cycle.a;

/** Half of a deliberate package cycle, for LayeringCatchesCrossedLayersTest only. */
public final class First {
  private First() {}

  /** Reaches the other half. */
  public static Object other() {
    return build.hearth.core.crossing.cycle.b.Second.class;
  }
}
