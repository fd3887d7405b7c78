#!/usr/bin/env bash
# The instructions a callgrind run counted, summed over its threads, from
# valgrind's own output (the file its stderr went to):
#   bench/callgrind_total.sh RUN.err
# A run that valgrind could not finish counts nothing: this fails rather
# than let a script print a ratio of part of it.
set -euo pipefail
if grep -q "Process terminating" "$1"; then
  echo "valgrind did not finish: $(grep -m1 -A1 'Process terminating' "$1")" >&2; exit 1
fi
grep -q Collected "$1" || { echo "valgrind counted nothing: $(tail -3 "$1")" >&2; exit 1; }
grep -h Collected "$1" | awk '{s += $NF} END {printf "%.0f", s}'
