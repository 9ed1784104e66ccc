#!/usr/bin/env bash
# HTTP ceiling of this machine: wrk against GET /healthz of cinema-api and, in
# the same run, against nginx answering a fixed 200 on another loopback port.
# Rounds alternate between the servers so both see the same machine state.
#
# Usage: bench/http-ceiling.sh
# Environment (all optional):
#   BENCH_DURATION      wrk duration of one measurement (default 10s)
#   BENCH_WARMUP        wrk duration of the warm-up of each server (default 3s)
#   BENCH_ROUNDS        measurements per server; medians are reported (default 3)
#   BENCH_CONNECTIONS   wrk connections (default 64)
#   BENCH_WRK_THREADS   wrk threads (default 2)
#   BENCH_HTTP_THREADS  space-separated HTTP_THREADS values, one cinema-api per
#                       value (default: empty = the server's own default)
#   BENCH_ACCESS_LOG    1 (default): also measure cinema-api with LOG_LEVEL=info,
#                       access log written to a file; 0: skip
#   BENCH_BUILD_DIR     build tree (default build-bench)
#   BENCH_API_BIN       benchmark this cinema-api binary instead of building one
#                       (e.g. a build of a patched copy of the tree)
#   BENCH_BASE_BIN      also measure this cinema-api binary (e.g. a Release build
#                       of the previous commit) in the same rounds, as "api-base"
#   BENCH_QUIET_MAX     before each measurement, wait until other processes use at
#                       most this % of the CPUs (default 10) ...
#   BENCH_QUIET_WAIT    ... for at most this many seconds (default 20)
#   BENCH_KEEP          directory to copy the raw wrk outputs into (default: none)
#
# Only loopback; everything started is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
cd "$root"

duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-3s}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-64}
wrk_threads=${BENCH_WRK_THREADS:-2}
read -r -a http_threads <<<"${BENCH_HTTP_THREADS:-}"
((${#http_threads[@]})) || http_threads=(default)
access_log=${BENCH_ACCESS_LOG:-1}
build_dir=${BENCH_BUILD_DIR:-$root/build-bench}
quiet_max=${BENCH_QUIET_MAX:-10}
quiet_wait=${BENCH_QUIET_WAIT:-20}

die() { echo "http-ceiling: $*" >&2; exit 1; }

for tool in wrk nginx curl cmake; do
	command -v "$tool" >/dev/null || die "$tool not found (see packages.txt)"
done
[[ $duration =~ ^[0-9]+[sm]?$ && $warmup =~ ^[0-9]+[sm]?$ ]] ||
	die "BENCH_DURATION and BENCH_WARMUP look like 10s, 2m or 10"
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS must be 1..99"
[[ $quiet_max =~ ^[0-9]+$ && $quiet_wait =~ ^[0-9]+$ ]] ||
	die "BENCH_QUIET_MAX and BENCH_QUIET_WAIT are whole numbers"
dur_s=$(to_s "$duration")
warm_s=$(to_s "$warmup")

# --- build ---
build_api

# --- cleanup of everything started below ---
bench_temp http-ceiling

# Each server is started and answering before the next port is picked.

# Waits until pid answers 200 on GET /healthz at port.

# --- nginx: the ceiling ---
ncpu=$(nproc)
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
user_line=
if ((EUID == 0)); then
	# the workers open no files; the master creates the temp dirs for them
	user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
fi
temp_lines=
nginx_conf_args=$(nginx -V 2>&1)
for kind in client_body proxy fastcgi uwsgi scgi; do
	# only the modules built in know their *_temp_path directive
	if [[ $nginx_conf_args == *"--http-${kind//_/-}-temp-path"* ]]; then
		temp_lines+="    ${kind}_temp_path $tmp/nginx/${kind};"$'\n'
	fi
done
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes $ncpu;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
$temp_lines    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
        location / {
            return 404;
        }
    }
}
EOF
nginx -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
	>"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
wait_ready nginx "$nginx_pid" "$nginx_port" "$tmp/nginx/error.log"

# --- cinema-api instances ---
# /healthz touches neither PostgreSQL nor Redis (their pools connect lazily),
# so the URLs need not point at running servers.
labels=(nginx)
ports=("$nginx_port")
logs=("")
srv_pids=("$nginx_pid")
start_api()
{
	local label=$1 threads=$2 level=$3 bin=${4:-$api_bin} port log pid
	port=$(free_port)
	log=$tmp/$label.log
	local envs=(APP_ENV=development HTTP_HOST=127.0.0.1 HTTP_PORT="$port"
		LOG_LEVEL="$level" SHUTDOWN_GRACE=1
		DATABASE_URL="${DATABASE_URL:-postgresql://127.0.0.1:5432/cinema}"
		REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}")
	[[ $threads == default ]] || envs+=(HTTP_THREADS="$threads")
	env "${envs[@]}" "$bin" serve >>"$log" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_ready "cinema-api ($label)" "$pid" "$port" "$log"
	labels+=("$label")
	ports+=("$port")
	logs+=("$log")
	srv_pids+=("$pid")
}
for t in "${http_threads[@]}"; do
	[[ $t == default || $t =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_HTTP_THREADS value: $t"
	start_api "api-threads-$t" "$t" warn
done
if [[ $access_log == 1 ]]; then
	start_api "api-threads-${http_threads[0]}-accesslog" "${http_threads[0]}" info
fi
if [[ -n ${BENCH_BASE_BIN:-} ]]; then
	start_api api-base default warn "$BENCH_BASE_BIN"
fi

# --- measurements ---
ntargets=${#labels[@]}
total=$(((warm_s + rounds * (dur_s + 1)) * ntargets))
echo "== $ntargets servers, warm-up ${warmup} then $rounds x $duration each:" \
	"about ${total}s, at most $((total + rounds * ntargets * quiet_wait))s" >&2

# CPU time, in clock ticks, of every process but this script, its children
# (wrk, the servers, nginx's workers) and the kernel threads that run deferred
# network work, which on loopback is this benchmark's. Other sessions' builds
# and tests skew the results on a small machine; this tells by how much.
# Processes that end are counted in their parent's cutime/cstime.
foreign_ticks()
{
	local ours=" $$ " pid
	for pid in "${pids[@]}"; do
		ours+="$pid $({ pgrep -P "$pid" || true; } | tr '\n' ' ')"
	done
	ours+="$({ pgrep '^ksoftirqd/' || true; } | tr '\n' ' ')"
	# processes come and go between the glob and the read: not an error
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v ours="$ours" -v me="$$" '
	{
		pid = $1
		sub(/^.*\) /, "") # after the command name: state ppid ... utime is $12
		if (index(ours, " " pid " ") || $2 == me) next
		t += $12 + $13 + $14 + $15
	}
	END { print t + 0 }'
}

# CPU time, in clock ticks, of a server: the process (all its threads) and its
# children (nginx's workers).
server_ticks()
{
	local pid
	local children
	children=$(pgrep -P "$1" || true)
	for pid in "$1" $children; do
		sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null || true
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# wrk with a hard bound in case a server stalls. Sets other_cpu to the share
# of all CPUs, in percent, used by processes other than wrk and the servers,
# and server_us to the CPU time the server spent per request, in microseconds
# (loopback network work done on its behalf included): a figure that noise
# from other processes moves far less than req/s.
other_cpu=0
server_us=0
run_wrk()
{
	local secs=$1 port=$2 out=$3 spid=$4 limit f0 f1 a0 a1 s0 s1 n
	limit=$(($(to_s "$secs") + 30))
	s0=$(server_ticks "$spid")
	f0=$(foreign_ticks)
	a0=$(all_ticks)
	timeout -k 5 "$limit" wrk -t"$wrk_threads" -c"$conns" -d"$secs" --latency \
		"http://127.0.0.1:$port/healthz" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed against 127.0.0.1:$port"; }
	a1=$(all_ticks)
	f1=$(foreign_ticks)
	s1=$(server_ticks "$spid")
	other_cpu=$(awk -v f=$((f1 - f0)) -v a=$((a1 - a0)) \
		'BEGIN { o = a ? 100 * f / a : 0; printf "%.0f", o < 0 ? 0 : o }')
	n=$(awk '/ requests in / { print $1 }' "$out")
	server_us=$(awk -v t=$((s1 - s0)) -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.2f", n ? t / hz * 1e6 / n : 0 }')
}

# Prints "rps p50_ms p99_ms errors" from a wrk --latency output.
parse_wrk()
{
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	/^ +50% / { p50 = ms($2) }
	/^ +99% / { p99 = ms($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/ { errs += $5 }
	END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, errs }' "$1"
}

# Waits, up to quiet_wait seconds, for the share of the CPUs used by other
# processes to fall to quiet_max percent over one second.

for i in "${!labels[@]}"; do
	echo "-- warm-up ${labels[$i]}" >&2
	run_wrk "$warmup" "${ports[$i]}" "$tmp/warmup-${labels[$i]}.txt" "${srv_pids[$i]}"
done

results=$tmp/results.txt # label round rps p50 p99 errors other_cpu server_us
: >"$results"
for ((r = 1; r <= rounds; r++)); do
	for i in "${!labels[@]}"; do
		label=${labels[$i]}
		# the access log grows by ~200 bytes a request: start each run afresh
		if [[ -n ${logs[$i]} ]]; then : >"${logs[$i]}"; fi
		out=$tmp/wrk-$label-$r.txt
		wait_quiet
		run_wrk "$duration" "${ports[$i]}" "$out" "${srv_pids[$i]}"
		read -r rps p50 p99 errs <<<"$(parse_wrk "$out")"
		echo "$label $r $rps $p50 $p99 $errs $other_cpu $server_us" >>"$results"
		printf '   round %d %-28s %7s req/s  p50 %6s ms  p99 %6s ms  %5s us/req  errors %s  other CPU %s%%\n' \
			"$r" "$label" "$rps" "$p50" "$p99" "$server_us" "$errs" "$other_cpu" >&2
	done
done

if [[ -n ${BENCH_KEEP:-} ]]; then
	mkdir -p "$BENCH_KEEP"
	cp "$tmp"/wrk-*.txt "$results" "$tmp/nginx/nginx.conf" "$BENCH_KEEP"/
fi

# --- summary: per server, the median of each figure over the rounds; the
# ratio to nginx is the median of the per-round ratios (same round, run one
# after the other), which cancels most of the drift of a shared machine ---
col() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$results"; }
ratio_of()
{
	awk -v l="$1" '$1 == "nginx" { n[$2] = $3 } $1 == l { a[$2] = $3 }
		END { for (r in a) if (n[r]) print a[r] / n[r] }' "$results" | median
}

echo
echo "HTTP ceiling: wrk -t$wrk_threads -c$conns -d$duration --latency GET /healthz," \
	"median of $rounds rounds; $ncpu CPUs shared by wrk and the servers"
printf '%-30s %8s %8s %8s %9s %7s %9s %10s\n' server req/s p50_ms p99_ms cpu_us/req errors vs_nginx other_cpu
goal_line=
for label in "${labels[@]}"; do
	rps=$(col "$label" 3 | median)
	p50=$(col "$label" 4 | median)
	p99=$(col "$label" 5 | median)
	errs=$(col "$label" 6 | awk '{ t += $1 } END { print t + 0 }')
	other=$(col "$label" 7 | sort -n | tail -n 1)
	us=$(col "$label" 8 | median)
	ratio=$(ratio_of "$label")
	printf '%-30s %8.0f %8.3f %8.3f %9.2f %7s %8.1f%% %9s%%\n' "$label" "$rps" "$p50" "$p99" \
		"$us" "$errs" "$(awk -v r="$ratio" 'BEGIN { print 100 * r }')" "$other"
	if [[ $label == api-threads-${http_threads[0]} ]]; then
		goal_line=$(awk -v r="$ratio" -v p="$p99" -v l="$label" 'BEGIN {
			printf "goal (%s): req/s >= 60%% of nginx: %s (%.1f%%); p99 < 5 ms: %s (%.3f ms)",
				l, r >= 0.6 ? "met" : "NOT met", 100 * r, p < 5 ? "met" : "NOT met", p }')
	fi
done
echo
echo "$goal_line"
echo "cpu_us/req: the server's CPU time per request (nginx: its workers), loopback" \
	"network work included; other processes move it much less than req/s."
echo "other_cpu: the most, over the rounds, of the CPUs used by processes other than wrk" \
	"and the servers; above a few percent the figures are skewed."
