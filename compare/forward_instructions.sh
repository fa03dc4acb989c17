#!/usr/bin/env bash
# Instructions per call of examples/forward_profile under callgrind, free of
# start-up: (count at HI calls - count at LO calls) / (HI - LO).
#   compare/forward_instructions.sh net dt13 2 6
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p dualtape-compare --example forward_profile >&2
bin="${CARGO_TARGET_DIR:-target}/release/examples/forward_profile"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 \
        | awk '/Collected/ {gsub(",", "", $4); print $4}'
}
a=$(count "$1" "$2" "$3")
b=$(count "$1" "$2" "$4")
echo "$1 $2: $(( (b - a) / ($4 - $3) )) instructions per call"
