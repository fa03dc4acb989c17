#!/usr/bin/env bash
# The reverse-mode tape's tests under Miri, with Stacked Borrows and then
# Tree Borrows: the tape's `unsafe` code, a recorded program's replay
# (unchecked indexing in its batched interpreter), its thread-locals, panics and
# panic hooks that re-enter it, the capacity/limit path, thread-local
# destruction, and allocation through a counting global allocator.
#
#   scripts/miri.sh                 # everything below, both borrow models
#   scripts/miri.sh stacked         # one model: stacked or tree
#
# Needs nightly with Miri: rustup component add miri rust-src --toolchain nightly
# Miri is slow, so each line below picks a test binary and test-name filters
# (the integration tests are one binary, `suite`, with one module per area;
# `reverse_oom` is its own binary since it needs its own global allocator).
set -euo pipefail
cd "$(dirname "$0")/.."

# TARGET FILTER...   (TARGET: --lib, or a test binary's name; no filter: all of
# it). Filters are libtest's: a test runs if its path contains any of them.
SELECTION=$(cat <<'LIST'
--lib reverse::tape::
suite reverse_soundness:: reverse_tape::
suite reverse_misuse::ended_var reverse_misuse::a_var_ reverse_misuse::another_thread reverse_misuse::finished_thread reverse_misuse::inside reverse_misuse::recovers reverse_misuse::panicked
suite allocations::a_smaller_recording allocations::a_warm_tape_serves
suite program::replay_equals program::large_replays program::a_workspace_shared program::reused_slots program::batched_replay program::fused_pairs program::chained_sums program::shared_slots program::adjoint_sums program::an_operation_on_constants program::zero_partials program::constant_and_input program::vjp_and_jacobian program::many_inputs_are_copied_in
reverse_oom
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
        start=$SECONDS
        if ! MIRIFLAGS="$flags" cargo +nightly miri test -q "${sel[@]}" -- "${f[@]}"; then
            echo "!! miri ($model borrows) FAILED: ${sel[*]} ${f[*]}"
            status=1
        fi
        echo "   ($((SECONDS - start)) s)"
    done <<< "$SELECTION"
done
exit $status
