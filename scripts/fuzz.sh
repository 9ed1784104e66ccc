#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ (clang, ASan+UBSan) and runs them.
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [HARNESS...]
# HARNESS: names from fuzz/fuzz_NAME.c (e.g. mail, sigv4); default all of them.
# -t: seconds per harness (default 60); CI runs `scripts/fuzz.sh -t 10`.
# -j: parallel fuzzing jobs per harness (default 1; mind the shared cores).
# Each run starts from the seed corpus fuzz/corpus/NAME (with fuzz/dict/NAME.dict
# when there is one) and keeps what it finds in BUILD_DIR/corpus/NAME, so that a
# long run can go on where the last one stopped. A crash, leak, timeout or
# undefined behaviour fails the run; the input is written to BUILD_DIR/artifacts/:
# reproduce with BUILD_DIR/fuzz/fuzz_NAME FILE, and add it to fuzz/corpus/NAME
# with the fix. Environment: BUILD_DIR (default build-fuzz), CC (default clang),
# FUZZ_ARGS (more libFuzzer flags, e.g. -seed=1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=60 jobs=1
while getopts 't:j:h' opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
		[[ $opt == h ]] && exit 0 || exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[[ $seconds =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: -t and -j take whole numbers" >&2; exit 2; }

all=()
for f in fuzz/fuzz_*.c; do
	n=${f#fuzz/fuzz_}
	all+=("${n%.c}")
done
names=("$@")
((${#names[@]})) || names=("${all[@]}")
for n in "${names[@]}"; do
	[[ -f fuzz/fuzz_$n.c ]] || { echo "fuzz.sh: no harness \"$n\" (have: ${all[*]})" >&2; exit 2; }
done

BUILD_DIR=${BUILD_DIR:-build-fuzz}
export CC=${CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found (scripts/install-deps.sh installs clang)" >&2; exit 1; }
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINEMA_FUZZ=ON -DCINEMA_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target "${names[@]/#/fuzz_}"

read -ra extra <<<"${FUZZ_ARGS:-}"
mkdir -p "$BUILD_DIR/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for n in "${names[@]}"; do
	corpus=$BUILD_DIR/corpus/$n
	mkdir -p "$corpus"
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096
		-artifact_prefix="$BUILD_DIR/artifacts/$n-" -print_final_stats=1)
	[[ -f fuzz/dict/$n.dict ]] && args+=(-dict="fuzz/dict/$n.dict")
	((jobs > 1)) && args+=(-jobs="$jobs" -workers="$jobs")
	echo "=== fuzz $n: ${seconds}s"
	if "$BUILD_DIR/fuzz/fuzz_$n" "${args[@]}" "${extra[@]}" "$corpus" "fuzz/corpus/$n" \
		>"$BUILD_DIR/fuzz-$n.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|#[0-9]+ *DONE)' "$BUILD_DIR/fuzz-$n.log" | tail -1 || true
	else
		failed+=("$n")
		tail -60 "$BUILD_DIR/fuzz-$n.log"
		echo "=== fuzz $n FAILED (log: $BUILD_DIR/fuzz-$n.log; input: $BUILD_DIR/artifacts/$n-*)"
	fi
done
if ((${#failed[@]})); then
	echo "fuzz: ${#failed[@]} of ${#names[@]} harnesses failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: ${#names[@]} harnesses ran ${seconds}s each without a finding"
