#!/usr/bin/env bash
# valgrind, as the benchmarks run it: `bench/valgrind.sh --tool=callgrind ... COMMAND`.
#
# Debian 12's valgrind (3.19) cannot decode RDTSCP. libhwy, which libavcodec
# loads through libjxl, runs RDTSCP in a load-time initialiser
# (hwy::platform::TimerResolution), whatever /proc/cpuinfo says (seen on a
# virtual machine that does not list rdtscp), so every program linked with
# libavcodec can die of SIGILL before main under valgrind.
# Nothing measured calls that function afterwards; a stand-in that returns a
# constant is preloaded in its place, built once into the bench cache.
set -euo pipefail
cache=${AVMON_BENCH_CACHE:-$HOME/.cache/avmon-bench}
# awk reads to the end: with pipefail, ldconfig cut short by SIGPIPE would end this script.
hwy=$(ldconfig -p 2>/dev/null | awk '/libhwy\.so\.1 / && !found {print $NF; found = 1}')
if [ -n "$hwy" ]; then
  shim=$cache/hwy-timer-shim.so
  if [ ! -f "$shim" ]; then
    mkdir -p "$cache"
    src=$(mktemp --suffix=.cpp) map=$(mktemp)
    printf '#include <cstdint>\nnamespace hwy::platform { std::uint64_t TimerResolution() { return 1; } }\n' >"$src"
    # The same symbol version as the library's, so the stand-in binds first.
    printf 'HWY_0 { global: *; };\n' >"$map"
    g++ -std=c++17 -O2 -shared -fPIC -Wl,--version-script="$map" "$src" -o "$shim.tmp"
    rm -f "$src" "$map"
    mv "$shim.tmp" "$shim"
  fi
  export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
fi
exec valgrind "$@"
