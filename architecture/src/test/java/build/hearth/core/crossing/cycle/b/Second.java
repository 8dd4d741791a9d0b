package build.hearth.core.crossing.cycle.b;

/** Half of a deliberate package cycle, for LayeringCatchesCrossedLayersTest only. */
public final class Second {
  private Second() {}

  /** Reaches the other half. */
  public static Object other() {
    return build.hearth.core.crossing.cycle.a.First.class;
  }
}
