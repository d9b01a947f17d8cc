package dev.splitkernel.bench;

import java.util.List;

/**
 * A named set of JMH benchmarks that {@code scripts/bench NAME} runs, and the ratios it reports from them.
 * Ratios are read from one run, side by side, so the machine's noise cancels as far as it can.
 */
public interface Suite
{
    String name();

    /** JMH include patterns (regular expressions over benchmark names). */
    List<String> includes();

    /** Comparisons to print after the run (with their targets' verdicts at full length). */
    List<Ratio> ratios();

    /** Extra JMH parameters for quick mode, e.g. smaller working sets: "param=value" pairs. */
    default List<String> quickParams()
    {
        return List.of();
    }
}
