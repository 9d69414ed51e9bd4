// qc-monitor's exit codes, shared by its subcommands.
#pragma once

namespace qc::monitor {

// plan and capabilities.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the machine or a file could not be read
inline constexpr int kExitUsage = 2;    // bad flag or flag value

// check: the worst verdict, so scripts can act on it (skips count as ok).
inline constexpr int kExitChecksOk = 0;
inline constexpr int kExitChecksWarn = 1;
inline constexpr int kExitChecksFail = 2;
// check, snapshot, watch, serve: could not run at all (bad flag or flag
// value, root unreadable, /sys/devices/system/cpu/online missing). Distinct
// from the verdicts above, so "2" always means a failed check.
inline constexpr int kExitCouldNotRun = 3;

}  // namespace qc::monitor
