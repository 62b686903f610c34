#pragma once
// How long the calling process has been running: for start-up figures (extract's time to its
// first batch) that include what happens before main(): loading libraries, static constructors.
namespace ishannot {

/// Seconds since this process started (Linux: /proc/self/stat's start time against
/// CLOCK_BOOTTIME; resolution one clock tick, 10 ms on the usual kernels). -1 when unknown.
double seconds_since_process_start();

}  // namespace ishannot
