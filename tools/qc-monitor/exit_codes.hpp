// qc-monitor's exit codes, shared by its subcommands.
#pragma once

namespace qc::monitor {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the machine or a file could not be read
inline constexpr int kExitUsage = 2;    // bad flag or flag value

}  // namespace qc::monitor
