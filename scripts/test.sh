#!/usr/bin/env bash
# Builds the project and runs its test suite with ctest, then the web app's
# checks (npm run check in web/: API types fresh, tsc, eslint, vitest, build,
# size budget) and its browser tests (scripts/web-test.sh).
#   scripts/test.sh [ctest args...]          e.g. scripts/test.sh -L unit
# Environment: BUILD_DIR (default build), CMAKE_ARGS (extra configure args),
# WEB_TESTS=0 (no web checks nor browser tests; they are skipped too when ctest
# args are given, unless WEB_TESTS=1),
# DATABASE_URL and REDIS_URL (when both are set, no throwaway servers are started),
# S3_ENDPOINT with S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET and S3_REGION (when set,
# no throwaway S3 server is started).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/node.sh
source scripts/lib/node.sh

scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
read -ra cmake_args <<<"${CMAKE_ARGS:-}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}"
cmake --build "$BUILD_DIR" -j"$(nproc)"

PG_BIN_DIR=$(svc_pg_bin_dir)
export PG_BIN_DIR # for tests that start their own servers (initdb, postgres; redis-server is on PATH)
command -v redis-server >/dev/null || { echo "test.sh: redis-server is not on PATH" >&2; exit 1; }

need_db='' need_s3=''
[[ -n ${DATABASE_URL:-} && -n ${REDIS_URL:-} ]] || need_db=1
[[ -n ${S3_ENDPOINT:-} ]] || need_s3=1
if [[ -n $need_db || -n $need_s3 ]]; then
	# In /tmp so that the postgres user can reach it even when the repo is under /root.
	svc_dir=$(mktemp -d /tmp/cinema-test.XXXXXX)
	trap 'svc_stop "$svc_dir"; rm -rf "$svc_dir"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ -n $need_db ]]; then
		svc_start "$svc_dir" throwaway
	fi
	if [[ -n $need_s3 ]]; then
		svc_s3_start "$svc_dir/s3" # exports S3_ENDPOINT, S3_ACCESS_KEY, ... for the tests
	fi
fi

rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j2 "$@" || rc=$?

web_tests=${WEB_TESTS:-}
[[ -n $web_tests ]] || { (($# == 0)) && web_tests=1 || web_tests=0; }
if [[ $web_tests != 0 ]]; then
	echo "test.sh: the web app's checks (web/: npm run check)"
	web_build=0
	if ! { node_check && node_npm_ci web && (cd web && npm run check); }; then
		echo "test.sh: the web app's checks FAILED" >&2
		rc=1 web_build=1
	fi
	echo "test.sh: the browser tests (scripts/web-test.sh)"
	WEB_BUILD=$web_build BUILD_DIR=$BUILD_DIR scripts/web-test.sh || rc=1
fi
exit "$rc"
