#!/usr/bin/env bash
# Instructions per call (callgrind), a load-independent companion to
# the timings of `cargo run --release -p dualtape-compare`: each (method, workload) runs twice
# under callgrind with different call counts, and the difference divided by
# the extra calls is the cost of one call, free of start-up and warm-up.
# Instruction counts ignore cache misses, so they understate reverse mode at
# large n (where the tape no longer fits in cache).
#
#   scripts/instructions.sh                 # the default list below
#   scripts/instructions.sh reverse notebook 1000 10 30   # one case: METHOD WORKLOAD SIZE LO HI
#
# Needs valgrind; builds examples/profile in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --example profile >&2
bin="$target/release/examples/profile"

count() { # method workload size calls -> instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 0 "$4" 2>&1 \
        | awk '/Collected/ {gsub(",", "", $4); print $4}'
}

one() { # method workload size lo hi
    local a b
    a=$(count "$1" "$2" "$3" "$4")
    b=$(count "$1" "$2" "$3" "$5")
    echo $(( (b - a) / ($5 - $4) ))
}

if [ $# -eq 5 ]; then
    echo "$1 $2 $3: $(one "$@") instructions per call"
    exit 0
fi

printf '| workload | method | instructions / call | × f64 |\n|---|---|---:|---:|\n'
while read -r workload size lo hi methods; do
    base=$(one f64 "$workload" "$size" "$lo" "$hi")
    for m in f64 $methods; do
        if [ "$m" = f64 ]; then v=$base; else v=$(one "$m" "$workload" "$size" "$lo" "$hi"); fi
        printf '| %s %s | %s | %d | %s |\n' "$workload" "$size" "$m" "$v" \
            "$(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
    done
done <<'LIST'
rosenbrock 10 1000 3000 hand reverse dual dv4 dv8 dv16 fd
rosenbrock 1000 100 300 hand reverse dv8 dv16
notebook 1000 10 30 hand reverse dv16
nalgebra 1000 10 30 hand reverse dv16
logdet 20 10 30 hand reverse dv16
LIST
