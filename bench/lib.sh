# Shared by the scripts in bench/: sourced, not run. The caller defines
# die (its own message prefix), foreign_ticks (the CPU ticks of processes
# other than those it measures; others_ticks below does it for most), and
# sets quiet_max, quiet_wait, build_dir, pids (the processes it started) and,
# for pg_ticks, pg_pid before using what needs them.
# shellcheck shell=bash

# "10s", "2m" or "10" in seconds.
to_s() { local v=$1; case $v in *m) echo $((${v%m} * 60)) ;; *s) echo "${v%s}" ;; *) echo "$v" ;; esac; }

# Sets api_bin: BENCH_API_BIN, or a Release cinema-api built into build_dir.
build_api()
{
	if [[ -n ${BENCH_API_BIN:-} ]]; then
		api_bin=$BENCH_API_BIN
		[[ -x $api_bin ]] || die "BENCH_API_BIN $api_bin is not an executable"
		return
	fi
	echo "== building Release into ${build_dir#"$root"/}" >&2
	cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCINEMA_TESTS=OFF >/dev/null
	cmake --build "$build_dir" -j"$(nproc)" --target cinema-api >/dev/null
	api_bin=$build_dir/cinema-api
	[[ -x $api_bin ]] || die "no $api_bin after the build"
}

# Makes tmp, a temporary directory named for the script (name), empties pids
# and sets the traps that, on exit, stop every process in pids and the
# services in $tmp/svc (when the script started some) and remove tmp.
bench_temp()
{
	local name=$1
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
	# shellcheck disable=SC2064 # name is expanded now, on purpose
	trap "echo '$name: interrupted' >&2; exit 130" INT
	# shellcheck disable=SC2064
	trap "echo '$name: terminated' >&2; exit 143" TERM
}

bench_cleanup()
{
	trap - EXIT INT TERM
	stop_pids
	if declare -F svc_stop >/dev/null; then svc_stop "$tmp/svc"; fi
	rm -rf "$tmp"
}

# SIGTERM to every process in pids, up to 5 s each to exit, then SIGKILL.
stop_pids()
{
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# cinema-api lets requests in flight finish (SHUTDOWN_GRACE, set to 1)
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port()
{
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 12000))
		if ! port_in_use "$port"; then
			echo "$port"
			return 0
		fi
	done
	die "no free loopback port"
}

# Waits until the server named name (pid, port, log) answers /healthz.
wait_ready()
{
	local name=$1 pid=$2 port=$3 log=$4
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "$name exited at start-up"; }
		curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	tail -n 20 "$log" >&2
	die "$name not ready on 127.0.0.1:$port after 10s"
}

all_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# Waits (up to quiet_wait s) until other processes use at most quiet_max %
# of the CPUs.
wait_quiet()
{
	local f0 a0 f1 a1 pct waited=0
	while ((waited < quiet_wait)); do
		f0=$(foreign_ticks)
		a0=$(all_ticks)
		sleep 1
		a1=$(all_ticks)
		f1=$(foreign_ticks)
		pct=$(((a1 - a0) > 0 ? 100 * (f1 - f0) / (a1 - a0) : 0))
		((pct <= quiet_max)) && return 0
		((waited == 0)) && echo "   (other processes use ${pct}% of the CPUs: waiting up to ${quiet_wait}s)" >&2
		waited=$((waited + 1))
	done
	echo "   (still busy after ${quiet_wait}s: measuring anyway)" >&2
}

median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The CPU ticks of every process but this script, pids, the PIDs given
# (servers it started) and their children, and the kernel's softirq
# threads: what "other processes" used.
others_ticks()
{
	local ours=" $$ " pid
	for pid in "${pids[@]}" "$@"; do
		ours+="$pid $({ pgrep -P "$pid" || true; } | tr '\n' ' ')"
	done
	ours+="$({ pgrep '^ksoftirqd/' || true; } | tr '\n' ' ')"
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v ours="$ours" -v me="$$" '
	{
		pid = $1
		sub(/^.*\) /, "") # after the command name: state ppid ... utime is $12
		if (index(ours, " " pid " ") || $2 == me) next
		t += $12 + $13 + $14 + $15
	}
	END { print t + 0 }'
}
# cinema-api (PID $1): all its threads
api_ticks() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
# PostgreSQL: the postmaster (pg_pid), its live backends and those that
# ended (cutime)
pg_ticks()
{
	local pid
	{
		sed 's/^.*) //' "/proc/$pg_pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
		for pid in $(pgrep -P "$pg_pid" || true); do
			sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true
		done
	} | awk '{ t += $1 } END { print t + 0 }'
}
