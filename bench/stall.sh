#!/usr/bin/env bash
# Latency of the catalog while Stripe hangs: wrk on GET /api/v1/movies/{id}
# (random ids of the demo catalog) against cinema-api, first alone, then
# while BENCH_CHECKOUTS clients keep calling POST /orders/{id}/checkout with
# Stripe pointed at a socket that accepts connections and never answers
# (STRIPE_TIMEOUT_MS=BENCH_STRIPE_TIMEOUT_MS). With BENCH_BASE_BIN, the same
# two measurements on that binary too (e.g. a build of an older commit).
#
# Usage: bench/stall.sh
# Environment (all optional):
#   BENCH_DURATION           wrk duration of one measurement (default 10s)
#   BENCH_CONNECTIONS        wrk connections (default 16)
#   BENCH_CHECKOUTS          concurrent checkout clients (default 40)
#   BENCH_STRIPE_TIMEOUT_MS  cinema-api's STRIPE_TIMEOUT_MS (default 5000)
#   BENCH_BASE_BIN           also measure this cinema-api binary
#   BENCH_BUILD_DIR, BENCH_API_BIN  as in bench/catalog.sh
#
# Only loopback; a private PostgreSQL and Redis in a temporary directory;
# everything started is stopped and removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
cd "$root"
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"

duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-16}
checkouts=${BENCH_CHECKOUTS:-40}
stripe_timeout=${BENCH_STRIPE_TIMEOUT_MS:-5000}
build_dir=${BENCH_BUILD_DIR:-$root/build-bench}
quiet_max=100 quiet_wait=0 # no waiting for a quiet machine here

die() { echo "stall-bench: $*" >&2; exit 1; }
foreign_ticks() { echo 0; }

for tool in wrk curl cmake python3; do
	command -v "$tool" >/dev/null || die "$tool not found (see packages.txt)"
done
for v in "$conns" "$checkouts" "$stripe_timeout"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "connections, checkouts and the timeout are whole numbers"
done
build_api

bench_temp stall-bench

echo "== starting PostgreSQL and Redis in $tmp/svc" >&2
svc_start "$tmp/svc" throwaway >/dev/null 2>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "services did not start"; }

# A Stripe that never answers: connections complete in the kernel's backlog.
hole_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4096)
time.sleep(86400)' "$hole_port" &
pids+=($!)

api_env=(APP_ENV=development HTTP_HOST=127.0.0.1 SHUTDOWN_GRACE=1 LOG_LEVEL=warn
	DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" AUTH_RATE_LIMIT=100000
	STRIPE_API_BASE="http://127.0.0.1:$hole_port" STRIPE_SECRET_KEY=sk_test_bench
	STRIPE_WEBHOOK_SECRET=whsec_bench STRIPE_TIMEOUT_MS="$stripe_timeout")
env "${api_env[@]}" "$api_bin" migrate >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; die "migrate failed"; }
env "${api_env[@]}" "$api_bin" seed >>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; die "seed failed"; }
env "${api_env[@]}" "$api_bin" create-user --email bench@example.com --password 'Bench#2024pw' \
	--active >>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; die "create-user failed"; }
id_range=$("$(svc_pg_bin_dir)/psql" -X -At "$DATABASE_URL" -c "SELECT min(id) || ' ' || max(id) FROM movies")
read -r id_lo id_hi <<<"$id_range"
cat >"$tmp/detail.lua" <<EOF
local reqs, i = {}, 0
function init(args)
	math.randomseed(4242)
	for k = 1, 1000 do
		reqs[k] = wrk.format('GET', '/api/v1/movies/' .. math.random($id_lo, $id_hi))
	end
end
function request()
	i = i % #reqs + 1
	return reqs[i]
end
EOF

# Starts a server of bin on a free port; sets port and pid.
start()
{
	port=$(free_port)
	env "${api_env[@]}" HTTP_PORT="$port" "$1" serve >>"$tmp/api.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_ready cinema-api "$pid" "$port" "$tmp/api.log"
}

json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)'"$1"')'; }

# wrk on the detail: prints "req/s p50_ms p99_ms non2xx".
measure()
{
	wrk -t2 -c"$conns" -d"$duration" --latency -s "$tmp/detail.lua" "http://127.0.0.1:$1" >"$tmp/wrk.txt" 2>&1
	awk '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec/ { rps = $2 }
	$1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' "$tmp/wrk.txt"
}

run()
{
	local label=$1 bin=$2 movie=$3
	start "$bin"
	local base=http://127.0.0.1:$port
	local tok
	tok=$(curl -fsS "$base/api/v1/accounts/login" -H 'Content-Type: application/json' \
		-d '{"email":"bench@example.com","password":"Bench#2024pw"}' | json_field '["access_token"]')
	curl -fsS -o /dev/null "$base/api/v1/cart" -X DELETE -H "Authorization: Bearer $tok"
	curl -fsS -o /dev/null "$base/api/v1/cart/items" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d "{\"movie_id\":$movie}"
	local order
	order=$(curl -fsS "$base/api/v1/orders" -X POST -H "Authorization: Bearer $tok" | json_field '["order"]["id"]')
	read -r rps p50 p99 bad <<<"$(measure "$port")"
	printf '%-10s %-16s %8s req/s  p50 %7s ms  p99 %8s ms  non-2xx %s\n' "$label" "Stripe fine" "$rps" "$p50" "$p99" "$bad"
	# The checkout clients: each calls again as soon as it has its answer.
	local cpids=() c
	for ((c = 0; c < checkouts; c++)); do
		(while :; do
			curl -s -o /dev/null --max-time 60 -X POST -H "Authorization: Bearer $tok" \
				"$base/api/v1/orders/$order/checkout" || true
		done) &
		cpids+=($!)
	done
	sleep 1
	read -r rps p50 p99 bad <<<"$(measure "$port")"
	printf '%-10s %-16s %8s req/s  p50 %7s ms  p99 %8s ms  non-2xx %s\n' "$label" "Stripe hanging" "$rps" "$p50" "$p99" "$bad"
	for c in "${cpids[@]}"; do
		kill "$c" 2>/dev/null || true
		pkill -P "$c" curl 2>/dev/null || true
	done
	wait "${cpids[@]}" 2>/dev/null || true
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
}

echo
echo "GET /api/v1/movies/{id}: wrk -t2 -c$conns -d$duration; $checkouts checkout clients;" \
	"STRIPE_TIMEOUT_MS=$stripe_timeout; $(nproc) CPUs"
run current "$api_bin" "$id_lo" # each run orders another movie
if [[ -n ${BENCH_BASE_BIN:-} ]]; then
	run base "$BENCH_BASE_BIN" $((id_lo + 1))
fi
