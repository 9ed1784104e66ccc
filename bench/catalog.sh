#!/usr/bin/env bash
# Catalog benchmark: the three catalog reads of cinema-api on 10k and on 100k
# movies, and in the same run pgbench -S against the same PostgreSQL (the
# machine's limit for one indexed query), then cinema-api's memory while it
# holds 256 keep-alive connections.
#
#   list    GET /api/v1/movies?genre=G&year_min=Y&year_max=Y+20&sort=-imdb
#           (G and Y drawn at random from the catalog's genres and 1960..2000)
#   detail  GET /api/v1/movies/{id}, id drawn at random from the seeded range
#   search  GET /api/v1/movies?search=W, W rotating through a few words
#   pgbench pgbench -S -c64 -j2 on its own database (scale 10), same server
#
# PostgreSQL runs without fsync and with shared_buffers 256MB. Each size:
# `cinema-api seed` (the real movies), then `seed --movies N` up to the size,
# VACUUM ANALYZE until the visibility map is set; a warm-up of each target,
# then rounds that alternate between the targets so all see the same machine
# state; medians are reported. At the first size, GET /movies/{id} is also
# measured on a second cinema-api with LOG_LEVEL=info (access log to a file).
#
# Usage: bench/catalog.sh
# Environment (all optional):
#   BENCH_SIZES         catalog sizes, ascending (default "10000 100000")
#   BENCH_DURATION      wrk/pgbench duration of one measurement (default 10s)
#   BENCH_WARMUP        duration of the warm-up of each target (default 3s)
#   BENCH_ROUNDS        measurements per target and size; medians (default 3)
#   BENCH_CONNECTIONS   wrk and pgbench connections (default 64)
#   BENCH_WRK_THREADS   wrk threads and pgbench -j (default 2)
#   BENCH_MEM_CONNECTIONS  connections of the memory measurement (default 256)
#   BENCH_POOL_SIZE     DB_POOL_SIZE of cinema-api (default 16)
#   BENCH_HTTP_THREADS  HTTP_THREADS of cinema-api (default: the server's own)
#   BENCH_ACCESS_LOG    1 (default): also measure GET /movies/{id} with
#                       LOG_LEVEL=info at the first size; 0: skip
#   BENCH_PG_SETTINGS   extra PostgreSQL settings, "name=value ..." (ALTER SYSTEM)
#   BENCH_BUILD_DIR     build tree (default build-bench)
#   BENCH_API_BIN       benchmark this cinema-api binary instead of building one
#                       (e.g. a build of a patched copy of the tree)
#   BENCH_BASE_BIN      also measure list, detail and search on this cinema-api
#                       binary (e.g. a Release build of the previous commit), in
#                       the same rounds: targets list-base, detail-base,
#                       search-base (same database, same PostgreSQL)
#   BENCH_QUIET_MAX     before each measurement, wait until other processes use at
#                       most this % of the CPUs (default 10) ...
#   BENCH_QUIET_WAIT    ... for at most this many seconds (default 20)
#   BENCH_KEEP          directory to copy the raw outputs into (default: none)
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

read -r -a sizes <<<"${BENCH_SIZES:-10000 100000}"
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-3s}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-64}
wrk_threads=${BENCH_WRK_THREADS:-2}
mem_conns=${BENCH_MEM_CONNECTIONS:-256}
pool_size=${BENCH_POOL_SIZE:-16}
http_threads=${BENCH_HTTP_THREADS:-}
access_log=${BENCH_ACCESS_LOG:-1}
read -r -a pg_settings <<<"${BENCH_PG_SETTINGS:-}"
build_dir=${BENCH_BUILD_DIR:-$root/build-bench}
quiet_max=${BENCH_QUIET_MAX:-10}
quiet_wait=${BENCH_QUIET_WAIT:-20}

die() { echo "catalog-bench: $*" >&2; exit 1; }

for tool in wrk curl cmake; do
	command -v "$tool" >/dev/null || die "$tool not found (see packages.txt)"
done
[[ $duration =~ ^[0-9]+[sm]?$ && $warmup =~ ^[0-9]+[sm]?$ ]] ||
	die "BENCH_DURATION and BENCH_WARMUP look like 10s, 2m or 10"
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS must be 1..99"
((${#sizes[@]})) || die "BENCH_SIZES is empty"
prev=0
for n in "${sizes[@]}"; do
	if [[ ! $n =~ ^[1-9][0-9]*$ ]] || ((n <= prev)); then
		die "BENCH_SIZES must be ascending whole numbers"
	fi
	prev=$n
done
for v in "$conns" "$wrk_threads" "$mem_conns" "$pool_size" "$quiet_max" "$quiet_wait"; do
	[[ $v =~ ^[0-9]+$ ]] || die "connections, threads, pool size and quiet settings are whole numbers"
done
[[ -z $http_threads || $http_threads =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_HTTP_THREADS"
dur_s=$(to_s "$duration")
warm_s=$(to_s "$warmup")
pg_bin=$(svc_pg_bin_dir) || die "no PostgreSQL server (run scripts/install-deps.sh)"
[[ -x $pg_bin/pgbench ]] || die "no $pg_bin/pgbench"

# --- build ---
build_api

# --- cleanup of everything started below ---
bench_temp catalog-bench

# --- PostgreSQL and Redis ---
# throwaway: fsync, synchronous_commit and full_page_writes off
echo "== starting PostgreSQL and Redis in $tmp/svc" >&2
svc_start "$tmp/svc" throwaway >/dev/null 2>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "services did not start"; }
psql_db() { "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
pg_base=${DATABASE_URL%/*}
{
	echo "ALTER SYSTEM SET shared_buffers = '256MB';"
	echo "ALTER SYSTEM SET effective_cache_size = '4GB';"
	echo "ALTER SYSTEM SET checkpoint_timeout = '30min';"
	echo "ALTER SYSTEM SET max_wal_size = '4GB';"
	for kv in "${pg_settings[@]}"; do
		[[ $kv =~ ^[a-z_.]+=[^\;\']+$ ]] || die "bad BENCH_PG_SETTINGS entry: $kv"
		echo "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}';"
	done
} | psql_db "$DATABASE_URL" >/dev/null
pg_port=$SVC_PG_PORT
svc_pg_stop "$tmp/svc"
svc_pg_start "$tmp/svc" throwaway "$pg_port" 2>>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "PostgreSQL did not restart"; }
pg_pid=$(head -n 1 "$tmp/svc/pg/data/postmaster.pid")
redis_pid=$(cat "$tmp/svc/redis/redis.pid")
pg_version=$(psql_db "$DATABASE_URL" -c "SHOW server_version" | awk '{ print $1 }')
psql_db "$pg_base/postgres" -c "CREATE DATABASE pgbench"
echo "== pgbench -i -s 10" >&2
"$pg_bin/pgbench" -i -q -s 10 "$pg_base/pgbench" >"$tmp/pgbench-init.log" 2>&1 ||
	{ cat "$tmp/pgbench-init.log" >&2; die "pgbench -i failed"; }

api_env=(APP_ENV=development HTTP_HOST=127.0.0.1 SHUTDOWN_GRACE=1 DB_POOL_SIZE="$pool_size"
	DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL")
[[ -z $http_threads ]] || api_env+=(HTTP_THREADS="$http_threads")
echo "== migrate" >&2
env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" migrate >"$tmp/migrate.log" 2>&1 ||
	{ cat "$tmp/migrate.log" >&2; die "migrate failed"; }



# Starts cinema-api at a log level; sets api_pid, api_port.
start_api()
{
	local level=$1 log=$2 bin=${3:-$api_bin}
	api_port=$(free_port)
	env "${api_env[@]}" LOG_LEVEL="$level" HTTP_PORT="$api_port" "$bin" serve >>"$log" 2>&1 &
	api_pid=$!
	pids+=("$api_pid")
	wait_ready "cinema-api ($level)" "$api_pid" "$api_port" "$log"
}

# --- CPU accounting (as bench/http-ceiling.sh) ---
# CPU time, in clock ticks, of every process but this script, its children
# (wrk, pgbench, cinema-api, PostgreSQL and Redis) and the kernel threads that
# run deferred network work, which on loopback is this benchmark's.
foreign_ticks() { others_ticks "$pg_pid" "$redis_pid"; }


# Prints "rps p50_ms p99_ms errors requests" from a wrk --latency output.
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
	/ requests in / { n = $1 }
	/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/ { errs += $5 }
	END { printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, errs, n }' "$1"
}

# Prints "tps - - errors transactions avg_latency_ms" from a pgbench output.
parse_pgbench()
{
	awk '
	/^tps = / { tps = $3 }
	/^number of transactions actually processed:/ { n = $6; sub(/\/.*/, "", n) }
	/^number of failed transactions:/ { errs = $5 }
	/^latency average = / { lat = $4 }
	END { printf "%.0f %.3f - %d %d\n", tps, lat, errs, n }' "$1"
}

# One measurement. Sets other_cpu (% of all CPUs used by other processes),
# api_us and pg_us (CPU time per request of cinema-api and of PostgreSQL,
# in microseconds, loopback network work included) and the parsed figures.
other_cpu=0 api_us=0 pg_us=0
measure()
{
	local kind=$1 secs=$2 out=$3 spid=$4 url=${5:-} lua=${6:-} limit f0 f1 a0 a1 s0 s1 p0 p1 n pg_children
	limit=$(($(to_s "$secs") + 30))
	pg_children=$(pgrep -c -P "$pg_pid" || true)
	s0=0 s1=0
	[[ -z $spid ]] || s0=$(api_ticks "$spid")
	p0=$(pg_ticks)
	f0=$(foreign_ticks)
	a0=$(all_ticks)
	if [[ $kind == pgbench ]]; then
		timeout -k 5 "$limit" "$pg_bin/pgbench" -n -S -c "$conns" -j "$wrk_threads" \
			-T "$(to_s "$secs")" "$pg_base/pgbench" >"$out" 2>&1 ||
			{ cat "$out" >&2; die "pgbench failed"; }
		# its backends' CPU reaches the postmaster's cutime once reaped
		for _ in $(seq 20); do
			if (($({ pgrep -c -P "$pg_pid" || true; }) <= pg_children)); then break; fi
			sleep 0.1
		done
	else
		timeout -k 5 "$limit" wrk -t"$wrk_threads" -c"$conns" -d"$secs" --latency \
			-s "$lua" "$url" >"$out" 2>&1 ||
			{ cat "$out" >&2; die "wrk failed against $url"; }
	fi
	a1=$(all_ticks)
	f1=$(foreign_ticks)
	p1=$(pg_ticks)
	[[ -z $spid ]] || s1=$(api_ticks "$spid")
	if [[ $kind == pgbench ]]; then
		read -r rps p50 p99 errs n <<<"$(parse_pgbench "$out")"
	else
		read -r rps p50 p99 errs n <<<"$(parse_wrk "$out")"
	fi
	local hz
	hz=$(getconf CLK_TCK)
	other_cpu=$(awk -v f=$((f1 - f0)) -v a=$((a1 - a0)) \
		'BEGIN { o = a ? 100 * f / a : 0; printf "%.0f", o < 0 ? 0 : o }')
	api_us=$(awk -v t=$((s1 - s0)) -v n="${n:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
	pg_us=$(awk -v t=$((p1 - p0)) -v n="${n:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
}

# --- wrk scripts: requests are made once per thread, then cycled ---
# (a fresh wrk.format per request costs wrk CPU that the server would miss)
write_lua()
{
	local file=$1 body=$2
	cat >"$file" <<EOF
local counter = 0
function setup(thread)
	counter = counter + 1
	thread:set("tid", counter)
end
local reqs, i = {}, 0
function init(args)
	math.randomseed(4242 + tid)
$body
end
function request()
	i = i % #reqs + 1
	return reqs[i]
end
EOF
}

results=$tmp/results.txt # size label round rps p50 p99 errors other_cpu api_us pg_us
: >"$results"

echo "== cinema-api serve (LOG_LEVEL=warn, DB_POOL_SIZE=$pool_size, HTTP_THREADS=${http_threads:-default})" >&2
start_api warn "$tmp/api-warn.log"
warn_pid=$api_pid warn_port=$api_port
info_pid='' info_port=''
if [[ $access_log == 1 ]]; then
	start_api info "$tmp/api-info.log"
	info_pid=$api_pid info_port=$api_port
fi

base_pid='' base_port=''
if [[ -n ${BENCH_BASE_BIN:-} ]]; then
	start_api warn "$tmp/api-base.log" "$BENCH_BASE_BIN"
	base_pid=$api_pid base_port=$api_port
fi

# A target of the rounds: "kind pid url lua" of a label.
target()
{
	case $1 in
	list | detail | search) echo "wrk $warn_pid http://127.0.0.1:$warn_port $tmp/$1.lua" ;;
	*-base) echo "wrk $base_pid http://127.0.0.1:$base_port $tmp/${1%-base}.lua" ;;
	detail-accesslog) echo "wrk $info_pid http://127.0.0.1:$info_port $tmp/detail.lua" ;;
	pgbench) echo "pgbench - - -" ;;
	esac
}

seeded=0
for size in "${sizes[@]}"; do
	echo "== catalog of $size movies" >&2
	if ((seeded == 0)); then
		env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" seed >>"$tmp/seed.log" 2>&1 ||
			{ cat "$tmp/seed.log" >&2; die "seed failed"; }
	fi
	have=$(psql_db "$DATABASE_URL" -c "SELECT count(*) FROM movies")
	if ((size > have)); then
		env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" seed --movies $((size - have)) >>"$tmp/seed.log" 2>&1 ||
			{ cat "$tmp/seed.log" >&2; die "seed --movies failed"; }
	fi
	# As autovacuum would in time: statistics, and the visibility map that
	# index-only scans need. An autovacuum worker that started before the seed
	# committed keeps its rows from being all-visible: vacuum until they are.
	for _ in $(seq 10); do
		psql_db "$DATABASE_URL" -c "VACUUM ANALYZE"
		visible=$(psql_db "$DATABASE_URL" -c "SELECT min(round(100.0 * relallvisible
			/ greatest(relpages, 1))) FROM pg_class WHERE relname IN ('movies', 'movie_genres')")
		((visible >= 99)) && break
		sleep 3
	done
	psql_db "$DATABASE_URL" -c "CHECKPOINT"
	seeded=$(psql_db "$DATABASE_URL" -c "SELECT count(*) FROM movies")
	read -r id_lo id_hi <<<"$(psql_db -F ' ' "$DATABASE_URL" -c "SELECT min(id), max(id) FROM movies")"
	genres=$(psql_db "$DATABASE_URL" -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM genres")
	echo "   $seeded movies (ids $id_lo..$id_hi, ${visible}% of pages all-visible)," \
		"$(tail -n 1 "$tmp/seed.log")" >&2

	write_lua "$tmp/list.lua" "	local genres = { $genres }
	for k = 1, 1024 do
		local y = math.random(1960, 2000)
		reqs[k] = wrk.format('GET', string.format(
			'/api/v1/movies?genre=%d&year_min=%d&year_max=%d&sort=-imdb',
			genres[math.random(#genres)], y, y + 20))
	end"
	write_lua "$tmp/detail.lua" "	for k = 1, 4096 do
		reqs[k] = wrk.format('GET', '/api/v1/movies/' .. math.random($id_lo, $id_hi))
	end"
	write_lua "$tmp/search.lua" "	local words = { 'godfather', 'nolan', 'star%20wars', 'love' }
	for k = 1, #words do
		reqs[k] = wrk.format('GET', '/api/v1/movies?search=' .. words[(k + tid) % #words + 1])
	end"

	# one sample of each, so that a broken endpoint stops the run at once
	base=http://127.0.0.1:$warn_port
	for path in "/api/v1/movies?genre=${genres%%,*}&year_min=1990&year_max=2010&sort=-imdb" \
		"/api/v1/movies/$id_lo" "/api/v1/movies?search=star%20wars"; do
		curl -fsS -o /dev/null --max-time 5 "$base$path" || die "GET $path failed"
	done

	labels=(list detail search pgbench)
	if [[ $size == "${sizes[0]}" && -n $info_pid ]]; then labels+=(detail-accesslog); fi
	if [[ -n $base_pid ]]; then labels+=(list-base detail-base search-base); fi
	total=$(((warm_s + rounds * (dur_s + 1)) * ${#labels[@]}))
	echo "== ${#labels[@]} targets, warm-up ${warmup} then $rounds x $duration each:" \
		"about ${total}s, at most $((total + rounds * ${#labels[@]} * quiet_wait))s" >&2
	for label in "${labels[@]}"; do
		read -r kind spid url lua <<<"$(target "$label")"
		[[ $spid != - ]] || spid=
		echo "-- warm-up $label" >&2
		measure "$kind" "$warmup" "$tmp/warmup-$size-$label.txt" "$spid" "$url" "$lua"
	done
	for ((r = 1; r <= rounds; r++)); do
		for label in "${labels[@]}"; do
			read -r kind spid url lua <<<"$(target "$label")"
			[[ $spid != - ]] || spid=
			if [[ $label == detail-accesslog ]]; then : >"$tmp/api-info.log"; fi
			out=$tmp/$kind-$size-$label-$r.txt
			wait_quiet
			measure "$kind" "$duration" "$out" "$spid" "$url" "$lua"
			echo "$size $label $r $rps $p50 $p99 $errs $other_cpu $api_us $pg_us" >>"$results"
			printf '   %6d round %d %-17s %7s req/s  p50 %7s ms  p99 %7s ms  api %6s us  pg %6s us  errors %s  other CPU %s%%\n' \
				"$size" "$r" "$label" "$rps" "$p50" "$p99" "$api_us" "$pg_us" "$errs" "$other_cpu" >&2
		done
	done
done
for p in $info_pid $base_pid; do
	# the memory figure is the warn-level server's alone
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done

# --- memory: cinema-api holding mem_conns keep-alive connections ---
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rss_idle=$(status_kb "$warn_pid" VmRSS)
echo "== memory: wrk -c$mem_conns on GET /movies/{id} ($seeded movies)" >&2
wait_quiet
wrk -t"$wrk_threads" -c"$mem_conns" -d"$duration" --latency -s "$tmp/detail.lua" \
	"http://127.0.0.1:$warn_port" >"$tmp/wrk-mem.txt" 2>&1 &
mem_wrk=$!
pids+=("$mem_wrk")
rss_max=0
while kill -0 "$mem_wrk" 2>/dev/null; do
	v=$(status_kb "$warn_pid" VmRSS)
	((v > rss_max)) && rss_max=$v
	sleep 0.5
done
wait "$mem_wrk" || { cat "$tmp/wrk-mem.txt" >&2; die "wrk -c$mem_conns failed"; }
read -r mem_rps _ mem_p99 mem_errs _ <<<"$(parse_wrk "$tmp/wrk-mem.txt")"
rss_hwm=$(status_kb "$warn_pid" VmHWM)
threads=$(status_kb "$warn_pid" Threads)

if [[ -n ${BENCH_KEEP:-} ]]; then
	mkdir -p "$BENCH_KEEP"
	cp "$tmp"/wrk-*.txt "$tmp"/pgbench-*.txt "$tmp"/*.lua "$results" "$BENCH_KEEP"/
fi

# --- summary: medians over the rounds ---
col() { awk -v s="$1" -v l="$2" -v c="$3" '$1 == s && $2 == l { print $c }' "$results"; }
# median of the per-round ratios of label to pgbench (same round, run one after the other)
ratio_of()
{
	awk -v s="$1" -v l="$2" '$1 != s { next } $2 == "pgbench" { n[$3] = $4 } $2 == l { a[$3] = $4 }
		END { for (r in a) if (n[r]) print a[r] / n[r] }' "$results" | median
}

echo
echo "Catalog: wrk -t$wrk_threads -c$conns -d$duration --latency; pgbench -S -c$conns -j$wrk_threads -T$dur_s" \
	"(scale 10); median of $rounds rounds; $(nproc) CPUs shared by wrk, cinema-api and PostgreSQL $pg_version"
echo "cinema-api: DB_POOL_SIZE=$pool_size HTTP_THREADS=${http_threads:-default}"
printf '%7s %-17s %8s %8s %8s %7s %8s %8s %9s %9s\n' movies target req/s p50_ms p99_ms errors api_us pg_us vs_pgbench other_cpu
declare -A fig
for size in "${sizes[@]}"; do
	for label in list detail search pgbench detail-accesslog list-base detail-base search-base; do
		[[ -n $(col "$size" "$label" 4) ]] || continue
		rps=$(col "$size" "$label" 4 | median)
		p50=$(col "$size" "$label" 5 | grep -v -- - | median || true)
		p99=$(col "$size" "$label" 6 | grep -v -- - | median || true)
		errs=$(col "$size" "$label" 7 | awk '{ t += $1 } END { print t + 0 }')
		other=$(col "$size" "$label" 8 | sort -n | tail -n 1)
		aus=$(col "$size" "$label" 9 | median)
		pus=$(col "$size" "$label" 10 | median)
		ratio=$(ratio_of "$size" "$label")
		fig[$size.$label.rps]=$rps fig[$size.$label.p99]=${p99:-0} fig[$size.$label.ratio]=$ratio
		[[ $label == pgbench ]] && { p99=-; aus=-; }
		printf '%7d %-17s %8.0f %8s %8s %7s %8s %8s %8.1f%% %8s%%\n' "$size" "$label" "$rps" \
			"${p50:--}" "$p99" "$errs" "$aus" "$pus" "$(awk -v r="$ratio" 'BEGIN { print 100 * r }')" "$other"
	done
done
printf '\nmemory: VmRSS %.1f MiB idle, %.1f MiB max while holding %d connections (%s threads);' \
	"$(awk -v k="$rss_idle" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss_max" 'BEGIN { print k / 1024 }')" \
	"$mem_conns" "$threads"
printf ' VmHWM %.1f MiB; %s req/s, p99 %s ms, errors %s\n' \
	"$(awk -v k="$rss_hwm" 'BEGIN { print k / 1024 }')" "$mem_rps" "$mem_p99" "$mem_errs"
echo "pgbench p50_ms is its average latency; it reports no percentiles."
echo "api_us, pg_us: CPU time per request of cinema-api and of PostgreSQL (all backends)," \
	"loopback network work included; other_cpu: the most, over the rounds, of the CPUs" \
	"used by processes other than these; above a few percent the figures are skewed."

# --- goals ---
first=${sizes[0]} last=${sizes[-1]}
goal()
{
	printf 'goal: %-58s %s\n' "$1" "$(awk -v ok="$2" 'BEGIN { print ok ? "met" : "NOT met" }')"
}
echo
for size in "${sizes[@]}"; do
	r=${fig[$size.detail.ratio]:-0}
	goal "GET /movies/{id} >= 40% of pgbench -S ($size movies): $(awk -v r="$r" 'BEGIN { printf "%.1f%%", 100 * r }')" \
		"$(awk -v r="$r" 'BEGIN { print (r >= 0.4) }')"
done
v=${fig[$first.list.rps]:-0}
goal "filtered list >= 5,000 req/s ($first movies): $v" "$(awk -v v="$v" 'BEGIN { print (v >= 5000) }')"
v=${fig[$last.search.p99]:-0}
goal "search p99 < 25 ms ($last movies): $v ms" "$(awk -v v="$v" 'BEGIN { print (v > 0 && v < 25) }')"
goal "memory < 64 MiB at $mem_conns connections: VmHWM $(awk -v k="$rss_hwm" 'BEGIN { printf "%.1f", k / 1024 }') MiB" \
	"$(awk -v k="$rss_hwm" 'BEGIN { print (k < 65536) }')"
