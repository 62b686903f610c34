#pragma once
// How many threads "all cores" means: the CPUs this process may run on (its affinity mask, as
// set by taskset, cgroups cpusets or Slurm's --cpus-per-task), not the machine's core count.
namespace ishannot {

/// Number of CPUs in the calling thread's affinity mask (sched_getaffinity); at least 1.
int available_cpus();

/// The thread count for a --threads value: requested > 0 as is, 0 = available_cpus().
/// Throws Error for a negative value.
int resolve_threads(int requested);

}  // namespace ishannot
