package build.hearth.core.sandbox;

import java.util.OptionalLong;

/**
 * What an action's cgroup limits did to it.
 *
 * @param memoryLimitBytes the memory limit in force; empty for none
 * @param oomKilled whether the kernel killed a process of the action for exceeding it
 * @param processLimit the process limit in force; 0 for none
 * @param forksRefused how many times a fork or thread creation failed at the process limit
 * @param peakMemoryBytes the most memory the action used at once, where the kernel reports it
 */
record CgroupVerdict(
    OptionalLong memoryLimitBytes,
    boolean oomKilled,
    int processLimit,
    long forksRefused,
    OptionalLong peakMemoryBytes) {}
