#!/usr/bin/env bash
# Instructions per call of one method of the comparison under callgrind, free
# of start-up: (count at HI calls - count at LO calls) / (HI - LO).
#   compare/forward_instructions.sh WORKLOAD METHOD LO HI
#   compare/forward_instructions.sh net 'dualtape DualVec<f64, 13>' 2 6
#   compare/forward_instructions.sh ros10 'echidna DualVec<f64, 10>' 100 1100
# WORKLOAD and METHOD as for `dualtape-compare profile` (its --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p dualtape-compare >&2
bin="${CARGO_TARGET_DIR:-target}/release/dualtape-compare"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" profile "$1" "$2" "$3" 2>&1 \
        | awk '/Collected/ {gsub(",", "", $4); print $4}'
}
a=$(count "$1" "$2" "$3")
b=$(count "$1" "$2" "$4")
echo "$1 $2: $(( (b - a) / ($4 - $3) )) instructions per call"
