#!/usr/bin/env bash
# Catalog cold path (issue 15): GET /movies, /favorites and /movies/{id} with
# cinema-api's list cache off, on 100,000 and 1,000,000 movies, every request
# a question not asked before in the run; and in the same run a primary-key
# select by pgbench on the same database, the machine's limit for the detail.
#
# Each size has its own PostgreSQL cluster: migrate, `cinema-api seed` (the
# real movies), `seed --movies` up to the size, a user with BENCH_FAVORITES
# favorites (create-user, then SQL), VACUUM ANALYZE until the visibility map
# is set, CHECKPOINT. The questions are drawn from that catalog
# (bench/cold_urls.py): the facts come from psql (genres, certifications,
# samples of years, IMDb scores and prices, the stars and directors with the
# most movies, with one or two, and at random, people's names, title words
# with their frequency in a sample of search_doc, titles), and each kind gets
# BENCH_URLS distinct URLs in the order drawn; the wrk script walks its slice of
# the list per thread and counts any request that had to start the list over
# (a repeat: reported, and the run then needs a larger BENCH_URLS).
#
#   one        each filter alone (genre, certification, year, year range,
#              imdb_min, price range, star, director)
#   multi      two or three filters combined
#   search     words very common to rare, two words, people's full names and
#              surnames, type-ahead prefixes of 3-5 letters
#   sort       each of the 16 sorts, half with one filter
#   deep       pages 50, 200 and 1000 (per_page 20) of a few lists and sorts
#   favorites  GET /api/v1/favorites of the user with many favorites (bearer)
#   mix        one 20%, multi 15%, search 20%, sort 20%, detail 15%,
#              favorites 5%, deep 5%; list pages 1 60%, 2 20%, 3 10%, 4-10 10%
#   detail     GET /api/v1/movies/{id}, ids at random without repetition
#   pgbench    pgbench -M prepared (the API prepares its statements), then
#              -M simple for reference: \set id random(lo, hi) and one
#              SELECT of the row's columns that the detail returns
#              FROM movies WHERE id = :id, over TCP, -c/-j as wrk's -c/-t
# Pages are 1-3 for about 86% of the mix's requests; URLs are canonical
# (always page and per_page), so two distinct URLs are two distinct questions.
#
# Per size and round: a warm-up of the mix on its own URLs, then each kind in
# its own `wrk -t2 -c16 --latency --timeout 30s` run, then pgbench; before
# each, wait_idle (the statements of requests that the previous run's wrk
# dropped at its end finish first: else their CPU and plans would count for
# the next kind) and wait_quiet. "pg us" is the CPU time (utime + stime, /proc) of every process of
# the cluster over the run (the postmaster with its reaped children and the
# live backends) divided by the requests wrk counted; "api us" the same for
# cinema-api. The figures are medians over the rounds.
#
# Plans: after the measured runs, a separate pass (BENCH_PLAN_DURATION per
# kind, fresh URLs) on a second cinema-api whose new connections load
# auto_explain (ALTER DATABASE ... SET session_preload_libraries, log_analyze,
# log_buffers, log_format text, log_min_duration BENCH_EXPLAIN_MS); the
# measured runs never have it (log_analyze times every plan node). The
# slowest BENCH_PLANS statements of each kind are cut from the server log;
# the slowest of each is printed.
#
# cinema-api: CATALOG_CACHE_TTL_MS=0 (the list cache off), LOG_LEVEL=warn,
# DB_POOL_SIZE=16, AUTH_RATE_LIMIT high enough for the token logins.
# PostgreSQL 15 as scripts/lib/services.sh starts it (fsync,
# synchronous_commit, full_page_writes off) with shared_buffers 256MB,
# effective_cache_size 4GB (as bench/catalog.sh); every setting not at its
# default is printed and kept.
#
# Usage: bench/cold.sh
# Environment (all optional):
#   BENCH_SIZES         catalog sizes (default "100000 1000000")
#   BENCH_DURATION      duration of each kind's wrk run and of pgbench (default 15s)
#   BENCH_WARMUP        the mix's warm-up before the kinds of a round (default 5s)
#   BENCH_PLAN_DURATION each kind's run in the auto_explain pass (default 5s; 0: no pass)
#   BENCH_EXPLAIN_MS    auto_explain.log_min_duration in ms (default 20 from
#                       1,000,000 movies, 5 below)
#   BENCH_PLANS         slowest statements kept per kind (default 5)
#   BENCH_ROUNDS        rounds, each with its own URLs; medians (default 1)
#   BENCH_KINDS         kinds to run, in order (default "one multi search sort
#                       deep favorites mix detail"; pgbench follows detail)
#   BENCH_URLS          distinct URLs per kind and round (default 50000; detail:
#                       up to 4x as many, at most one per movie)
#   BENCH_FAVORITES     favorites of the benchmark's user (default 2000)
#   BENCH_CONNECTIONS   wrk and pgbench connections (default 16)
#   BENCH_WRK_THREADS   wrk threads and pgbench -j (default 2)
#   BENCH_TIMEOUT       wrk --timeout (default 30s: slow answers are measured,
#                       not dropped)
#   BENCH_POOL_SIZE     DB_POOL_SIZE of cinema-api (default 16)
#   BENCH_DATA_DIR      keep each size's seeded cluster in DIR/SIZE and reuse it
#                       while DIR/SIZE/cold-marker matches (size, number and
#                       last of the migrations, a hash of src/catalog/seed*.[ch]
#                       and data/*.json, favorites); reseeded otherwise (default: a
#                       temp dir, removed once its size is measured)
#   BENCH_PG_SETTINGS   extra PostgreSQL settings, "name=value ..." (ALTER SYSTEM)
#   BENCH_BUILD_DIR     build tree (default build-bench)
#   BENCH_API_BIN       benchmark this cinema-api binary instead of building one
#   BENCH_QUIET_MAX     before each measurement, wait until other processes use at
#                       most this % of the CPUs (default 10) ...
#   BENCH_QUIET_WAIT    ... for at most this many seconds (default 20)
#   BENCH_KEEP          directory to copy the raw outputs into: wrk and pgbench
#                       outputs, URL lists, plans, settings (default: none)
#
# Only loopback; a private PostgreSQL and Redis; everything started is stopped
# on exit, and everything made is removed but BENCH_DATA_DIR and BENCH_KEEP.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
cd "$root"
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"

read -r -a sizes <<<"${BENCH_SIZES:-100000 1000000}"
duration=${BENCH_DURATION:-15s}
warmup=${BENCH_WARMUP:-5s}
plan_duration=${BENCH_PLAN_DURATION:-5s}
explain_ms=${BENCH_EXPLAIN_MS:-}
plans_top=${BENCH_PLANS:-5}
rounds=${BENCH_ROUNDS:-1}
read -r -a kinds <<<"${BENCH_KINDS:-one multi search sort deep favorites mix detail}"
url_count=${BENCH_URLS:-50000}
fav_count=${BENCH_FAVORITES:-2000}
conns=${BENCH_CONNECTIONS:-16}
wrk_threads=${BENCH_WRK_THREADS:-2}
wrk_timeout=${BENCH_TIMEOUT:-30s}
pool_size=${BENCH_POOL_SIZE:-16}
data_dir=${BENCH_DATA_DIR:-}
read -r -a pg_settings <<<"${BENCH_PG_SETTINGS:-}"
build_dir=${BENCH_BUILD_DIR:-$root/build-bench}
quiet_max=${BENCH_QUIET_MAX:-10}
quiet_wait=${BENCH_QUIET_WAIT:-20}
keep=${BENCH_KEEP:-}

die() { echo "cold-bench: $*" >&2; exit 1; }

for tool in wrk curl cmake python3; do
	command -v "$tool" >/dev/null || die "$tool not found (see packages.txt)"
done
for v in "$duration" "$warmup" "$plan_duration" "$wrk_timeout"; do
	[[ $v =~ ^[0-9]+[sm]?$ ]] || die "durations look like 15s, 2m or 15"
done
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS must be 1..99"
((${#sizes[@]})) || die "BENCH_SIZES is empty"
for n in "${sizes[@]}"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES are whole numbers"
done
for v in "$url_count" "$fav_count" "$conns" "$wrk_threads" "$pool_size" "$plans_top" \
	"$quiet_max" "$quiet_wait" ${explain_ms:+"$explain_ms"}; do
	[[ $v =~ ^[0-9]+$ ]] || die "counts, connections, threads and quiet settings are whole numbers"
done
((${#kinds[@]})) || die "BENCH_KINDS is empty"
for k in "${kinds[@]}"; do
	case $k in one | multi | search | sort | deep | favorites | mix | detail) ;;
	*) die "unknown kind $k in BENCH_KINDS" ;;
	esac
done
for kv in "${pg_settings[@]}"; do
	[[ $kv =~ ^[a-z_.]+=[^\;\']+$ ]] || die "bad BENCH_PG_SETTINGS entry: $kv"
done
[[ -z $data_dir || $data_dir == /* ]] || data_dir=$PWD/$data_dir
warm_s=$(to_s "$warmup")
plan_s=$(to_s "$plan_duration")
pg_bin=$(svc_pg_bin_dir) || die "no PostgreSQL server (run scripts/install-deps.sh)"
[[ -x $pg_bin/pgbench ]] || die "no $pg_bin/pgbench"
[[ -f $(dirname "$pg_bin")/lib/auto_explain.so ]] || ((plan_s == 0)) ||
	die "no auto_explain in $(dirname "$pg_bin")/lib (postgresql-15's contrib)"
# the migrations this tree applies: a kept cluster seeded with others is reseeded
migrations=$(find "$root/migrations" -maxdepth 1 -name '*.sql' | wc -l)
last_migration=$(find "$root/migrations" -maxdepth 1 -name '*.sql' -printf '%f\n' | sort | tail -n 1)
# and the seed's generator: another one makes another catalog
seed_sum=$(cat "$root"/src/catalog/seed*.[ch] "$root"/data/*.json 2>/dev/null | sha256sum | cut -c1-12)

# --- build ---
build_api

# --- cleanup of everything started below ---
bench_temp cold-bench
cluster='' # the running cluster's base directory
cold_cleanup()
{
	trap - EXIT INT TERM
	stop_pids
	[[ -z $cluster ]] || svc_pg_stop "$cluster"
	svc_redis_stop "$tmp/redis"
	rm -rf "$tmp"
}
trap cold_cleanup EXIT
data_root=${data_dir:-$tmp/data}
mkdir -p "$data_root"

echo "== starting Redis in $tmp/redis" >&2
svc_redis_start "$tmp/redis" 2>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "Redis did not start"; }
redis_url=$SVC_REDIS_URL
redis_pid=$(cat "$tmp/redis/redis.pid")
pg_pid=0 pg_port=0 db_url=''
psql_db() { "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Starts PostgreSQL in $cluster (initdb when new) with the benchmark's
# settings; sets pg_port, pg_pid, db_url.
start_pg()
{
	svc_pg_start "$cluster" throwaway 2>>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "PostgreSQL did not start"; }
	{
		echo "ALTER SYSTEM SET shared_buffers = '256MB';"
		echo "ALTER SYSTEM SET effective_cache_size = '4GB';"
		echo "ALTER SYSTEM SET checkpoint_timeout = '30min';"
		echo "ALTER SYSTEM SET max_wal_size = '4GB';"
		for kv in "${pg_settings[@]}"; do
			echo "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}';"
		done
		# what an interrupted plan pass may have left
		echo "ALTER DATABASE $SVC_PG_DB RESET ALL;"
	} | psql_db "$SVC_PG_URL" >/dev/null
	svc_pg_stop "$cluster"
	svc_pg_start "$cluster" throwaway "$SVC_PG_PORT" 2>>"$tmp/svc.log" ||
		{ cat "$tmp/svc.log" >&2; die "PostgreSQL did not restart"; }
	pg_port=$SVC_PG_PORT
	db_url=$SVC_PG_URL
	pg_pid=$(head -n 1 "$cluster/pg/data/postmaster.pid")
}

api_env_for()
{
	api_env=(APP_ENV=development HTTP_HOST=127.0.0.1 SHUTDOWN_GRACE=1 DB_POOL_SIZE="$pool_size"
		DATABASE_URL="$db_url" REDIS_URL="$redis_url" CATALOG_CACHE_TTL_MS=0 AUTH_RATE_LIMIT=100000)
}

# Starts cinema-api serve; sets api_pid, api_port.
start_api()
{
	local log=$1
	api_port=$(free_port)
	env "${api_env[@]}" LOG_LEVEL=warn HTTP_PORT="$api_port" "$api_bin" serve >>"$log" 2>&1 &
	api_pid=$!
	pids+=("$api_pid")
	wait_ready "cinema-api" "$api_pid" "$api_port" "$log"
}
stop_api()
{
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local p keep_pids=()
	for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep_pids+=("$p"); done
	pids=("${keep_pids[@]}")
}

fav_email=cold-bench@example.com
fav_password='Cold#Bench2026'
# A fresh access token of the favorites user (ACCESS_TOKEN_TTL is 15 min).
login()
{
	local port=$1 body
	body=$(curl -fsS --max-time 10 -H 'Content-Type: application/json' \
		-d "{\"email\":\"$fav_email\",\"password\":\"$fav_password\"}" \
		"http://127.0.0.1:$port/api/v1/accounts/login") || die "login of $fav_email failed"
	COLD_TOKEN=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' <<<"$body")
	export COLD_TOKEN
}

# --- CPU accounting (as bench/catalog.sh) ---
# CPU ticks of every process but this script, its children, the cluster's and
# Redis, and the kernel threads that run deferred network work.
foreign_ticks() { others_ticks "$pg_pid" "$redis_pid"; }

# "rps p50_ms p99_ms non2xx socket_errors requests repeated" from a wrk output
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
	/Non-2xx or 3xx responses:/ { non2xx += $5 }
	/^cold: / { rep = $NF }
	END { printf "%.1f %.3f %.3f %d %d %d %d\n", rps, p50, p99, non2xx, errs, n, rep }' "$1"
}
# "tps avg_latency_ms failed transactions" from a pgbench output
parse_pgbench()
{
	awk '
	/^tps = / { tps = $3 }
	/^number of transactions actually processed:/ { n = $6; sub(/\/.*/, "", n) }
	/^number of failed transactions:/ { errs = $5 }
	/^latency average = / { lat = $4 }
	END { printf "%.1f %.3f %d %d\n", tps, lat, errs, n }' "$1"
}

# The wrk script: each thread sends its own slice of the URL file (lines
# "- PATH" or "A PATH", A with the favorites user's token from COLD_TOKEN)
# in order, each request built once; done() prints how many requests found
# the slice used up and started it over (repeats).
cat >"$tmp/cold.lua" <<'EOF'
local counter, threads = 0, {}
function setup(thread)
	counter = counter + 1
	thread:set("tid", counter)
	table.insert(threads, thread)
end
reqs, nreqs, served = {}, 0, 0
function init(args)
	local file, nthreads = args[1], tonumber(args[2])
	local auth = { Authorization = "Bearer " .. (os.getenv("COLD_TOKEN") or "") }
	local k = 0
	for line in io.lines(file) do
		if k % nthreads == tid - 1 then
			local path = line:sub(3)
			if line:sub(1, 1) == "A" then
				reqs[#reqs + 1] = wrk.format("GET", path, auth)
			else
				reqs[#reqs + 1] = wrk.format("GET", path)
			end
		end
		k = k + 1
	end
	nreqs = #reqs
end
function request()
	served = served + 1
	return reqs[(served - 1) % nreqs + 1]
end
function done(summary, latency, requests)
	local rep, total = 0, 0
	for _, t in ipairs(threads) do
		local n, s = t:get("nreqs"), t:get("served")
		total = total + n
		if s > n then
			rep = rep + s - n
		end
	end
	io.write(string.format("cold: %d distinct URLs, requests that repeated one: %d\n", total, rep))
end
EOF

# Waits (up to 30 s) until cinema-api's connections run no statement: wrk
# stops at its duration but the statements of the requests it dropped run on
# (up to DB_STATEMENT_TIMEOUT_MS), and would be counted, and their plans
# logged, with the next kind.
wait_idle()
{
	for _ in $(seq 150); do
		(($(psql_db "$db_url" -c "SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'cinema' AND state = 'active'") == 0)) && return 0
		sleep 0.2
	done
	echo "   (cinema-api's statements still running after 30 s)" >&2
}

# One measurement: kind wrk (url_file) or pgbench (mode). Sets the parsed
# figures, other_cpu (% of the CPUs used by other processes), api_us, pg_us.
other_cpu=0 api_us=0 pg_us=0
measure()
{
	local tool=$1 secs=$2 out=$3 spid=$4 arg=$5 limit s0 s1 p0 p1 f0 f1 a0 a1 pg_children hz
	limit=$(($(to_s "$secs") + 60))
	pg_children=$(pgrep -c -P "$pg_pid" || true)
	s0=0 s1=0
	[[ -z $spid ]] || s0=$(api_ticks "$spid")
	p0=$(pg_ticks)
	f0=$(foreign_ticks)
	a0=$(all_ticks)
	if [[ $tool == pgbench ]]; then
		timeout -k 5 "$limit" "$pg_bin/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U "$SVC_PG_USER" \
			-c "$conns" -j "$wrk_threads" -T "$(to_s "$secs")" -M "$arg" -f "$tmp/pk.sql" "$SVC_PG_DB" \
			>"$out" 2>&1 || { cat "$out" >&2; die "pgbench failed"; }
		# its backends' CPU reaches the postmaster's cutime once reaped
		for _ in $(seq 20); do
			if (($({ pgrep -c -P "$pg_pid" || true; }) <= pg_children)); then break; fi
			sleep 0.1
		done
		read -r rps p50 errs n <<<"$(parse_pgbench "$out")"
		p99=- non2xx=0 repeated=0
	else
		timeout -k 5 "$limit" wrk -t"$wrk_threads" -c"$conns" -d"$secs" --latency --timeout "$wrk_timeout" \
			-s "$tmp/cold.lua" "http://127.0.0.1:$api_port" -- "$arg" "$wrk_threads" >"$out" 2>&1 ||
			{ cat "$out" >&2; die "wrk failed on $arg"; }
	fi
	a1=$(all_ticks)
	f1=$(foreign_ticks)
	p1=$(pg_ticks)
	[[ -z $spid ]] || s1=$(api_ticks "$spid")
	[[ $tool == pgbench ]] || read -r rps p50 p99 non2xx errs n repeated <<<"$(parse_wrk "$out")"
	hz=$(getconf CLK_TCK)
	other_cpu=$(awk -v f=$((f1 - f0)) -v a=$((a1 - a0)) \
		'BEGIN { o = a ? 100 * f / a : 0; printf "%.0f", o < 0 ? 0 : o }')
	api_us=$(awk -v t=$((s1 - s0)) -v n="${n:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
	pg_us=$(awk -v t=$((p1 - p0)) -v n="${n:-0}" -v hz="$hz" 'BEGIN { printf "%.1f", n ? t / hz * 1e6 / n : 0 }')
}

# The auto_explain entries of the server log between byte offsets from and
# to, slowest first, at most plans_top: "duration<US>entry", <US> the unit
# separator \037, the entry's newlines as \001.
cut_plans()
{
	local log=$1 from=$2 to=$3
	head -c "$to" "$log" | tail -c +"$((from + 1))" | awk '
	function flush() { if (e != "") print d "\037" e; e = "" }
	/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / {
		flush()
		if (match($0, /LOG:  duration: [0-9.]+ ms  plan:/)) {
			d = substr($0, RSTART + 16) + 0
			e = $0
		}
		next
	}
	e != "" { e = e "\001" $0 }
	END { flush() }' | sort -t "$(printf '\037')" -k1,1gr | awk -v n="$plans_top" 'NR <= n'
}

declare -A fig  # size.kind.figure: medians for the goals
declare -A info # size: what the summary says of its database
results=$tmp/results.txt # size kind round rps p50 p99 non2xx errors api_us pg_us other_cpu repeated requests
: >"$results"
mkdir -p "$tmp/out"
for size in "${sizes[@]}"; do
	cluster=$data_root/$size
	want="movies=$size migrations=$migrations last=$last_migration seed=$seed_sum favorites=$fav_count"
	reuse=0
	if [[ -f $cluster/cold-marker && $(cat "$cluster/cold-marker") == "$want" ]]; then
		reuse=1
		echo "== $size movies: reusing the cluster in $cluster ($want)" >&2
	else
		echo "== $size movies: a new cluster in $cluster" >&2
		svc_pg_stop "$cluster"
		rm -rf "$cluster"
		mkdir -p "$cluster"
	fi
	start_pg
	api_env_for
	env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" migrate >"$tmp/migrate.log" 2>&1 ||
		{ cat "$tmp/migrate.log" >&2; die "migrate failed"; }
	if ((reuse == 0)); then
		t0=$(date +%s)
		env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" seed >>"$tmp/seed.log" 2>&1 ||
			{ cat "$tmp/seed.log" >&2; die "seed failed"; }
		have=$(psql_db "$db_url" -c "SELECT count(*) FROM movies")
		if ((size > have)); then
			echo "   seed --movies $((size - have))" >&2
			env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" seed --movies $((size - have)) >>"$tmp/seed.log" 2>&1 ||
				{ cat "$tmp/seed.log" >&2; die "seed --movies failed"; }
		fi
		echo "   seeded in $(($(date +%s) - t0)) s: $(tail -n 1 "$tmp/seed.log")" >&2
		env "${api_env[@]}" LOG_LEVEL=warn "$api_bin" create-user --email "$fav_email" \
			--password "$fav_password" --active >>"$tmp/seed.log" 2>&1 ||
			{ cat "$tmp/seed.log" >&2; die "create-user failed"; }
		psql_db "$db_url" -c "INSERT INTO favorites (user_id, movie_id)
			SELECT u.id, m.id FROM users u,
				(SELECT id FROM movies ORDER BY random() LIMIT $fav_count) m
			WHERE u.email = '$fav_email'"
		# as autovacuum would in time: statistics, and the visibility map
		for _ in $(seq 10); do
			psql_db "$db_url" -c "VACUUM ANALYZE"
			visible=$(psql_db "$db_url" -c "SELECT min(round(100.0 * relallvisible
				/ greatest(relpages, 1))) FROM pg_class WHERE relname IN ('movies', 'movie_genres')")
			((visible >= 99)) && break
			sleep 3
		done
		psql_db "$db_url" -c "CHECKPOINT"
		echo "$want" >"$cluster/cold-marker"
	fi
	read -r movies id_lo id_hi <<<"$(psql_db -F ' ' "$db_url" -c "SELECT count(*), min(id), max(id) FROM movies")"
	pg_version=$(psql_db "$db_url" -c "SHOW server_version" | awk '{ print $1 }')
	psql_db -F ' | ' "$db_url" -c "SELECT name, setting || coalesce(' ' || unit, ''), source FROM pg_settings
		WHERE source NOT IN ('default', 'override', 'client') ORDER BY name" >"$tmp/out/pg-settings-$size.txt"
	pg_summary=$(psql_db "$db_url" -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
		FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size',
		'random_page_cost', 'max_parallel_workers_per_gather', 'fsync', 'synchronous_commit')")
	db_size=$(psql_db "$db_url" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
	echo "   $movies movies (ids $id_lo..$id_hi), database $db_size; PostgreSQL $pg_version: $pg_summary" >&2

	# --- the questions ---
	echo "   drawing the questions from the catalog" >&2
	sample_pct=$(awk -v n="$movies" 'BEGIN { p = 100 * 20000 / n; printf "%.4f", (p > 100 ? 100 : p) }')
	psql_db "$db_url" -c "SELECT json_build_object(
		'genres', (SELECT json_agg(id ORDER BY id) FROM genres),
		'certs', (SELECT json_agg(id ORDER BY id) FROM certifications),
		'id_lo', $id_lo, 'id_hi', $id_hi, 'ids_file', '$tmp/out/ids-$size.txt',
		'years', (SELECT json_agg(year) FROM (SELECT year FROM movies TABLESAMPLE SYSTEM ($sample_pct) LIMIT 2000) s),
		'imdbs', (SELECT json_agg(imdb) FROM (SELECT imdb FROM movies TABLESAMPLE SYSTEM ($sample_pct) LIMIT 2000) s),
		'prices', (SELECT json_agg(price) FROM (SELECT price FROM movies TABLESAMPLE SYSTEM ($sample_pct) LIMIT 2000) s),
		'titles', (SELECT json_agg(name) FROM (SELECT name FROM movies TABLESAMPLE SYSTEM ($sample_pct) LIMIT 2000) s),
		'stars_top', (SELECT json_agg(star_id) FROM (SELECT star_id FROM movie_stars GROUP BY star_id
			ORDER BY count(*) DESC LIMIT 200) s),
		'stars_rare', (SELECT json_agg(star_id) FROM (SELECT star_id FROM movie_stars GROUP BY star_id
			HAVING count(*) <= 2 ORDER BY random() LIMIT 2000) s),
		'stars_any', (SELECT json_agg(id) FROM (SELECT id FROM stars
			WHERE EXISTS (SELECT 1 FROM movie_stars l WHERE l.star_id = stars.id) ORDER BY random() LIMIT 5000) s),
		'directors_top', (SELECT json_agg(director_id) FROM (SELECT director_id FROM movie_directors
			GROUP BY director_id ORDER BY count(*) DESC LIMIT 200) s),
		'directors_rare', (SELECT json_agg(director_id) FROM (SELECT director_id FROM movie_directors
			GROUP BY director_id HAVING count(*) <= 2 ORDER BY random() LIMIT 2000) s),
		'directors_any', (SELECT json_agg(id) FROM (SELECT id FROM directors
			WHERE EXISTS (SELECT 1 FROM movie_directors l WHERE l.director_id = directors.id)
			ORDER BY random() LIMIT 5000) s),
		'names', (SELECT json_agg(name) FROM ((SELECT name FROM stars ORDER BY random() LIMIT 500)
			UNION ALL (SELECT name FROM directors ORDER BY random() LIMIT 200)) s),
		'words', (SELECT json_agg(json_build_array(word, ndoc)) FROM ts_stat(
			'SELECT search_doc FROM movies TABLESAMPLE SYSTEM ($sample_pct)') WHERE word ~ '^[[:alpha:]]{2,}$'))" \
		>"$tmp/out/facts-$size.json"
	# the detail's ids: real ones (the seed may leave gaps), at random
	psql_db "$db_url" -c "SELECT id FROM movies ORDER BY random() LIMIT $((4 * url_count))" >"$tmp/out/ids-$size.txt"
	# the detail's row without the JSON building: the columns it returns
	cat >"$tmp/pk.sql" <<EOF
\set id random($id_lo, $id_hi)
SELECT id, uuid, name, year, time, imdb, votes, meta_score, gross, description, price, certification_id, created_at, updated_at, likes, dislikes, rating, rating_count, comments, genres_json, stars_json, directors_json FROM movies WHERE id = :id;
EOF
	cp "$tmp/pk.sql" "$tmp/out/pgbench-pk.sql"
	for ((r = 1; r <= rounds; r++)); do
		mkdir -p "$tmp/out/urls-$size-r$r"
		python3 "$root/bench/cold_urls.py" "$tmp/out/facts-$size.json" "$tmp/out/urls-$size-r$r" \
			"$url_count" "$r" "${kinds[@]}" >"$tmp/urls.log" || die "cold_urls.py failed"
		echo "   round $r: $(tr '\n' ' ' <"$tmp/urls.log")distinct URLs" >&2
	done
	mkdir -p "$tmp/out/urls-$size-warmup" "$tmp/out/urls-$size-plans"
	python3 "$root/bench/cold_urls.py" "$tmp/out/facts-$size.json" "$tmp/out/urls-$size-warmup" \
		"$url_count" 1000 mix >/dev/null || die "cold_urls.py failed"
	python3 "$root/bench/cold_urls.py" "$tmp/out/facts-$size.json" "$tmp/out/urls-$size-plans" \
		"$url_count" 2000 "${kinds[@]}" >/dev/null || die "cold_urls.py failed"

	# --- the measured runs ---
	echo "== cinema-api serve (list cache off, LOG_LEVEL=warn, DB_POOL_SIZE=$pool_size)" >&2
	start_api "$tmp/api-$size.log"
	# one sample of each kind, so that a broken endpoint stops the run at once
	# (503 database_busy is an answer: a statement past DB_STATEMENT_TIMEOUT_MS)
	login "$api_port"
	for k in "${kinds[@]}"; do
		line=$(head -n 1 "$tmp/out/urls-$size-r1/$k.txt")
		auth=()
		[[ $line != A* ]] || auth=(-H "Authorization: Bearer $COLD_TOKEN")
		status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 60 "${auth[@]}" \
			"http://127.0.0.1:$api_port${line#? }") || status=000
		[[ $status == 2?? || $status == 503 ]] || die "GET ${line#? } answered $status"
	done
	for ((r = 1; r <= rounds; r++)); do
		if ((warm_s > 0)); then
			echo "-- warm-up: mix, $warmup" >&2
			login "$api_port"
			measure wrk "$warmup" "$tmp/out/warmup-$size-r$r.txt" "$api_pid" "$tmp/out/urls-$size-warmup/mix.txt"
		fi
		for k in "${kinds[@]}" pgbench-prepared pgbench-simple; do
			[[ $k != pgbench-* || " ${kinds[*]} " == *" detail "* ]] || continue
			wait_idle
			wait_quiet
			out=$tmp/out/$k-$size-r$r.txt
			if [[ $k == pgbench-* ]]; then
				measure pgbench "$duration" "$out" "" "${k#pgbench-}"
			else
				login "$api_port"
				measure wrk "$duration" "$out" "$api_pid" "$tmp/out/urls-$size-r$r/$k.txt"
			fi
			echo "$size $k $r $rps $p50 $p99 $non2xx $errs $api_us $pg_us $other_cpu $repeated $n" >>"$results"
			printf '   %7d round %d %-16s %8s req/s  p50 %8s ms  p99 %8s ms  non-2xx %s  errors %s  api %7s us  pg %8s us  other CPU %s%%%s\n' \
				"$size" "$r" "$k" "$rps" "$p50" "$p99" "$non2xx" "$errs" "$api_us" "$pg_us" "$other_cpu" \
				"$( ((repeated == 0)) || [[ $k == detail ]] || echo "  REPEATED $repeated (raise BENCH_URLS)")" >&2
		done
	done
	stop_api "$api_pid"

	# --- the worst plans: a separate pass with auto_explain ---
	: >"$tmp/out/plans-$size.txt"
	if ((plan_s > 0)); then
		ms=${explain_ms:-$((size >= 1000000 ? 20 : 5))}
		echo "== plans: auto_explain (log_min_duration ${ms} ms, log_analyze, log_buffers) on new connections, $plan_duration per kind" >&2
		psql_db "$db_url" >/dev/null <<EOF
ALTER DATABASE $SVC_PG_DB SET session_preload_libraries = 'auto_explain';
ALTER DATABASE $SVC_PG_DB SET auto_explain.log_min_duration = '${ms}ms';
ALTER DATABASE $SVC_PG_DB SET auto_explain.log_analyze = on;
ALTER DATABASE $SVC_PG_DB SET auto_explain.log_buffers = on;
ALTER DATABASE $SVC_PG_DB SET auto_explain.log_format = 'text';
EOF
		start_api "$tmp/api-plans-$size.log"
		pg_log=$cluster/pg/server.log
		for k in "${kinds[@]}"; do
			login "$api_port"
			wait_idle
			from=$(stat -c %s "$pg_log")
			measure wrk "$plan_duration" "$tmp/out/plans-wrk-$k-$size.txt" "$api_pid" "$tmp/out/urls-$size-plans/$k.txt"
			wait_idle
			sleep 0.5 # the last statements' log entries
			to=$(stat -c %s "$pg_log")
			cut_plans "$pg_log" "$from" "$to" | awk -v k="$k" '{ print k "\037" $0 }' >>"$tmp/out/plans-$size.txt"
			echo "   $k: $(awk -v k="$k" -F '\037' '$1 == k' "$tmp/out/plans-$size.txt" | wc -l) statements over ${ms} ms kept, $rps req/s with auto_explain" >&2
		done
		stop_api "$api_pid"
		psql_db "$db_url" -c "ALTER DATABASE $SVC_PG_DB RESET ALL"
		# readable copies: one file per kind, entries separated by a blank line
		for k in "${kinds[@]}"; do
			awk -v k="$k" -F '\037' '$1 == k { gsub(/\001/, "\n", $3); print "-- " k ": " $2 " ms"; print $3; print "" }' \
				"$tmp/out/plans-$size.txt" >"$tmp/out/plans-$size-$k.txt"
		done
	fi
	svc_pg_stop "$cluster"
	[[ -n $data_dir ]] || rm -rf "$cluster" # a temporary cluster: its disk back now
	cluster=''
	fig[$size.movies]=$movies
	info[$size]="$movies movies, database $db_size; PostgreSQL $pg_version: $pg_summary"
done

if [[ -n $keep ]]; then
	mkdir -p "$keep"
	cp -r "$tmp"/out/. "$results" "$tmp/cold.lua" "$keep"/
fi

# --- summary: medians over the rounds ---
col() { awk -v s="$1" -v k="$2" -v c="$3" '$1 == s && $2 == k { print $c }' "$results"; }
sum() { awk '{ t += $1 } END { print t + 0 }'; }
ratio_of()
{
	awk -v s="$1" -v k="$2" '$1 != s { next } $2 == "pgbench-prepared" { b[$3] = $4 } $2 == k { a[$3] = $4 }
		END { for (r in a) if (b[r]) print a[r] / b[r] }' "$results" | median
}
echo
echo "Catalog cold path: list cache off; wrk -t$wrk_threads -c$conns -d$duration --latency --timeout $wrk_timeout;" \
	"median of $rounds round(s); $(nproc) CPUs shared by wrk, cinema-api and PostgreSQL; $(git -C "$root" log -1 --format='tree at %h' 2>/dev/null || true)"
for size in "${sizes[@]}"; do
	echo
	echo "### $size movies (${info[$size]:-})"
	echo
	echo "| kind | req/s | p50 ms | p99 ms | non-2xx | errors | pg µs/req | api µs/req | other CPU |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for k in "${kinds[@]}" pgbench-prepared pgbench-simple; do
		[[ -n $(col "$size" "$k" 4) ]] || continue
		rps=$(col "$size" "$k" 4 | median)
		p50=$(col "$size" "$k" 5 | median)
		p99=$(col "$size" "$k" 6 | grep -v -- - | median || true)
		non2xx=$(col "$size" "$k" 7 | sum)
		errs=$(col "$size" "$k" 8 | sum)
		aus=$(col "$size" "$k" 9 | median)
		pus=$(col "$size" "$k" 10 | median)
		other=$(col "$size" "$k" 11 | sort -n | tail -n 1)
		rep=$(col "$size" "$k" 12 | sum)
		fig[$size.$k.rps]=$rps fig[$size.$k.p50]=$p50 fig[$size.$k.p99]=${p99:-0}
		label=$k
		[[ $k != pgbench-* ]] || { label="pgbench -M ${k#pgbench-} (p50: mean)"; aus=-; p99=-; }
		if ((rep > 0)); then
			if [[ $k == detail ]]; then label+=" (ids reused after ${fig[$size.movies]})"; else label+=" ($rep repeated)"; fi
		fi
		printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %s%% |\n' "$label" "$rps" "$p50" "${p99:--}" \
			"$non2xx" "$errs" "$pus" "$aus" "$other"
	done
	if [[ -n ${fig[$size.detail.rps]:-} && -n ${fig[$size.pgbench-prepared.rps]:-} ]]; then
		r=$(ratio_of "$size" detail)
		fig[$size.ratio]=$r
		echo
		printf 'detail / pgbench -M prepared: %.1f%% (%s req/s against %s tps)\n' \
			"$(awk -v r="$r" 'BEGIN { print 100 * r }')" "${fig[$size.detail.rps]}" "${fig[$size.pgbench-prepared.rps]}"
	fi
done
echo
echo "pg µs/req, api µs/req: CPU time per request of all the cluster's processes and of cinema-api;"
echo "errors: wrk's socket errors (timeouts included); other CPU: the most used by other processes."

# --- goals (issue 15) ---
goal() { printf 'goal: %-66s %s\n' "$1" "$(awk -v ok="$2" 'BEGIN { print ok ? "met" : "missed" }')"; }
echo
for size in "${sizes[@]}"; do
	if ((size == 1000000)) && [[ -n ${fig[$size.mix.rps]:-} ]]; then
		v=${fig[$size.mix.p99]}
		goal "1,000,000 movies: mix p99 < 50 ms: $v ms" "$(awk -v v="$v" 'BEGIN { print (v < 50) }')"
		v=${fig[$size.mix.p50]}
		goal "1,000,000 movies: mix p50 < 5 ms: $v ms" "$(awk -v v="$v" 'BEGIN { print (v < 5) }')"
	fi
	if ((size == 100000)); then
		if [[ -n ${fig[$size.mix.rps]:-} ]]; then
			v=${fig[$size.mix.rps]}
			goal "100,000 movies: mix >= 2,000 req/s: $v" "$(awk -v v="$v" 'BEGIN { print (v >= 2000) }')"
		fi
		for k in "${kinds[@]}"; do
			[[ $k != mix ]] || continue
			v=${fig[$size.$k.rps]:-0}
			goal "100,000 movies: $k >= 500 req/s: $v" "$(awk -v v="$v" 'BEGIN { print (v >= 500) }')"
		done
	fi
	if [[ -n ${fig[$size.ratio]:-} ]]; then
		v=${fig[$size.ratio]}
		goal "$size movies: detail >= 50% of pgbench -M prepared: $(awk -v r="$v" 'BEGIN { printf "%.1f%%", 100 * r }')" \
			"$(awk -v v="$v" 'BEGIN { print (v >= 0.5) }')"
	fi
done

# --- the slowest statement of each kind ---
for size in "${sizes[@]}"; do
	[[ -s $tmp/out/plans-$size.txt ]] || continue
	echo
	echo "### The slowest statement of each kind, $size movies (auto_explain, a separate pass)"
	for k in "${kinds[@]}"; do
		awk -v k="$k" -F '\037' '$1 == k { gsub(/\001/, "\n", $3); print "\n-- " k ": " $2 " ms"; print $3; exit }' \
			"$tmp/out/plans-$size.txt"
	done
done
