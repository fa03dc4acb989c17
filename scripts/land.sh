#!/usr/bin/env bash
# Land branch NAME on main: merge main into it, gate on fmt + clippy + the whole cargo test, then fast-forward main.
# Helpers work in worktrees /work/wt/NAME on branch NAME (git worktree add /work/wt/NAME -b NAME main); main lives in /work/main.
# Usage: /work/wt/land.sh NAME      (run from anywhere; refuses on any failure, main untouched)
set -euo pipefail
NAME=${1:?usage: land.sh NAME}
WT=/work/wt/$NAME
cd "$WT"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then echo "land: uncommitted changes in $WT; commit first" >&2; exit 1; fi
git merge --no-edit main || { echo "land: merge of main failed; resolve conflicts, commit, rerun" >&2; exit 1; }
echo "== fmt";    cargo fmt --all -- --check || { echo "land: run cargo fmt --all and commit" >&2; exit 1; }
echo "== clippy"; if ! cargo clippy --all-targets -- -D warnings 2>&1 | tail -30; then echo "land: clippy failed" >&2; exit 1; fi
echo "== clippy compare/ (not a default member; builds the peers)"; if ! cargo clippy -p dualtape-compare --all-targets -- -D warnings 2>&1 | tail -30; then echo "land: clippy -p dualtape-compare failed" >&2; exit 1; fi
echo "== test";   if ! cargo test > /tmp/land-$NAME.log 2>&1; then grep -E "FAILED|panicked|^error" /tmp/land-$NAME.log | head -40; echo "land: cargo test failed (full log /tmp/land-$NAME.log)" >&2; exit 1; fi; grep -c "^test result: ok" /tmp/land-$NAME.log
exec 9>/work/wt/.land.lock; flock 9
if ! git -C /work/main merge --ff-only "$NAME"; then echo "land: main moved while testing; rerun land.sh (it merges main again)" >&2; exit 1; fi
echo "land: $NAME landed on main at $(git -C /work/main rev-parse --short HEAD)"
