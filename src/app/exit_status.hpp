// avmon's exit statuses: a contract that scripts and supervisors rely on
// (docs/contracts.md lists them). Add new ones here and there.
#pragma once

namespace avmon::exit_status {

inline constexpr int kOk = 0;       // done (a finite input analysed to its end, or stopped by a signal)
inline constexpr int kFailure = 1;  // internal error (a bug: the message says "internal error")
inline constexpr int kUsage = 2;    // bad usage or configuration (the message names the key and FILE:LINE:COL)
inline constexpr int kInput = 3;    // the input cannot be opened or is not media (the message says why)
inline constexpr int kOutputLost = 4;  // analysis completed, but events could not be written (events file, spool)

// `avmon healthcheck` only, as container health checks expect: 1 unhealthy.
inline constexpr int kUnhealthy = 1;

}  // namespace avmon::exit_status
