#!/usr/bin/env bash
# The reverse-mode tape's tests under Miri, with Stacked Borrows and then
# Tree Borrows: the tape's `unsafe` code, its thread-locals, panics and
# panic hooks that re-enter it, the capacity/limit path, thread-local
# destruction, and allocation through a counting global allocator.
#
#   scripts/miri.sh                 # everything below, both borrow models
#   scripts/miri.sh stacked         # one model: stacked or tree
#
# Needs nightly with Miri: rustup component add miri rust-src --toolchain nightly
# Miri is slow (the selection below takes a few minutes): each line picks a
# test target and name filters. If test files are merged into one binary,
# point the lines at that target and keep the filters.
set -euo pipefail
cd "$(dirname "$0")/.."

# TARGET FILTER...   (TARGET: --lib, or a test file's name; no filter: all)
SELECTION=$(cat <<'LIST'
--lib reverse::tape::
reverse_soundness
reverse_tape
reverse_misuse ended_var stale long_ago hessian another_thread finished_thread inside_ recovers panicked several_threads sent_between
alloc warm_gradient_into_allocates_nothing_rosenbrock a_smaller_recording
reverse_alloc
LIST
)

models=("${@:-stacked tree}")
# shellcheck disable=SC2206
models=(${models[*]})

base="-Zmiri-deterministic-floats"
status=0
for model in "${models[@]}"; do
    case "$model" in
        stacked) flags="$base" ;;
        tree) flags="$base -Zmiri-tree-borrows" ;;
        *) echo "unknown borrow model $model: stacked or tree" >&2; exit 2 ;;
    esac
    while read -r target filters; do
        [ -z "$target" ] && continue
        if [ "$target" = "--lib" ]; then sel=(-p dualtape --lib); else sel=(-p dualtape --test "$target"); fi
        # shellcheck disable=SC2206
        f=($filters)
        echo "== miri ($model borrows): ${sel[*]} ${f[*]}"
        if ! MIRIFLAGS="$flags" cargo +nightly miri test -q "${sel[@]}" -- "${f[@]}"; then
            echo "!! miri ($model borrows) FAILED: ${sel[*]} ${f[*]}"
            status=1
        fi
    done <<< "$SELECTION"
done
exit $status
