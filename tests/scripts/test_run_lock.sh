#!/usr/bin/env bash
# scripts/run.sh refuses a second run on the same data directory at once:
# before it installs, builds or starts anything (it used to refuse only after
# the whole install and build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/cinema-runlock.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_run_lock: $*" >&2; exit 1; }

exec 8>"$tmp/run.lock" # the first run's lock
flock -n 8 || fail "cannot take the lock"
rc=0
out=$(RUN_DATA_DIR=$tmp BUILD_DIR=$tmp/build timeout 120 "$root/scripts/run.sh" 2>&1 8>&-) || rc=$?
[[ $rc == 1 ]] || fail "exit status $rc, expected 1; output:"$'\n'"$out"
[[ $out == "run.sh: another scripts/run.sh is using $tmp" ]] ||
	fail "expected only the refusal; output:"$'\n'"$out"
[[ ! -e $tmp/build && ! -e $tmp/env && ! -e $tmp/pg ]] || fail "it built or started something"
echo "test_run_lock: ok"
