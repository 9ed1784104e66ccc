# shellcheck shell=bash disable=SC2034 # SVC_* variables are results for the caller
# Private PostgreSQL and Redis servers for development and tests.
# Source this file, then:
#
#   svc_start DIR MODE [PG_PORT [REDIS_PORT]]
#                          start both in DIR (MODE: throwaway or persistent) and
#                          export DATABASE_URL, REDIS_URL and PG_BIN_DIR
#   svc_stop DIR           stop whatever of them runs in DIR; never fails
#
#   svc_pg_start DIR MODE [PORT]   PostgreSQL in DIR/pg; sets SVC_PG_PORT, SVC_PG_URL
#   svc_pg_stop DIR
#   svc_redis_start DIR [PORT]     Redis in DIR (e.g. an extra one for a test);
#                                  sets SVC_REDIS_PORT, SVC_REDIS_URL
#   svc_redis_stop DIR
#   svc_free_port                  prints a free loopback port
#   svc_s3_start DIR [PORT]        an S3-compatible server (s3rver, from package.json) in DIR,
#                                  with the bucket created; exports S3_ENDPOINT,
#                                  S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, S3_REGION
#   svc_s3_stop DIR
#
# Servers listen on 127.0.0.1 only, on a free port picked at random in
# 20000-31999 (below the kernel's ephemeral range) unless PORT is given, so they
# never collide with system servers on 5432/6379. PostgreSQL has one role,
# `cinema`, the bootstrap superuser (initdb -U cinema), trust authentication
# over 127.0.0.1 and the data dir's socket, and a database `cinema`:
#   DATABASE_URL=postgresql://cinema@127.0.0.1:PORT/cinema
#   REDIS_URL=redis://127.0.0.1:PORT/0
# initdb and postgres refuse to run as root: as root they run as the `postgres`
# user, which must be able to traverse DIR's parents (keep throwaway dirs in /tmp).

SVC_PG_USER=cinema
SVC_PG_DB=cinema
SVC_READY_TIMEOUT=${SVC_READY_TIMEOUT:-30}

svc_log() { printf 'services: %s\n' "$*" >&2; }

# PostgreSQL's bin dir: PG_BIN_DIR if set, else 15, else the newest installed.
svc_pg_bin_dir()
{
	if [[ -n ${PG_BIN_DIR:-} ]]; then
		printf '%s\n' "$PG_BIN_DIR"
		return 0
	fi
	local d=/usr/lib/postgresql/15/bin
	[[ -x $d/initdb ]] || d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [[ -x $d/initdb ]]; then
		printf '%s\n' "$d"
		return 0
	fi
	svc_log "no PostgreSQL server found under /usr/lib/postgresql (run scripts/install-deps.sh)"
	return 1
}

svc_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

svc_free_port()
{
	local i port
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + RANDOM % 12000))
		if ! svc_port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	svc_log "no free port found"
	return 1
}

# Runs a PostgreSQL server program, as the postgres user when we are root.
svc_pg_run()
{
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# As root: lets the postgres user reach DIR (o+x on DIR and its parents).
svc_pg_make_reachable()
{
	((EUID == 0)) || return 0
	local d=/ part
	local -a parts
	IFS=/ read -ra parts <<<"${1#/}"
	for part in "${parts[@]}"; do
		d=${d%/}/$part
		if ! runuser -u postgres -- test -x "$d"; then
			[[ $d == "$1" ]] || svc_log "chmod o+x $d (so that the postgres user can reach the data dir)"
			chmod o+x "$d"
		fi
	done
}

svc_pg_init()
{
	local base=$1 mode=$2 bin=$3 data=$1/pg/data sockdir
	mkdir -p "$base/pg"
	chmod 700 "$base/pg"
	((EUID != 0)) || chown postgres: "$base/pg"
	local nosync=()
	[[ $mode == throwaway ]] && nosync=(--no-sync)
	svc_pg_run "$bin/initdb" -D "$data" -U "$SVC_PG_USER" -A trust -E UTF8 --locale=C.UTF-8 \
		"${nosync[@]}" >"$base/pg/initdb.log" 2>&1 ||
		{ svc_log "initdb failed:"; cat "$base/pg/initdb.log" >&2; return 1; }
	# Unix socket paths are limited to 107 bytes; TCP is what we use anyway.
	sockdir=$data
	((${#data} < 90)) || sockdir=
	{
		echo "# added by scripts/lib/services.sh"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$sockdir'"
		echo "max_connections = 200"
		if [[ $mode == throwaway ]]; then
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
		fi
	} | svc_pg_run tee -a "$data/postgresql.conf" >/dev/null
	printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" |
		svc_pg_run tee "$data/pg_hba.conf" >/dev/null
}

svc_pg_start()
{
	local base=$1 mode=$2 want_port=${3:-} bin data port try psql
	[[ $base == /* ]] || base=$PWD/$base
	mkdir -p "$base"
	bin=$(svc_pg_bin_dir) || return 1
	data=$base/pg/data
	svc_pg_make_reachable "$base"
	if [[ ! -f $data/PG_VERSION ]]; then
		rm -rf "$base/pg" # not a cluster: at most an initdb that failed
		svc_pg_init "$base" "$mode" "$bin" || return 1
	fi
	if svc_pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		svc_log "stopping a PostgreSQL left running in $data"
		svc_pg_stop "$base"
	fi
	for ((try = 1; try <= 5; try++)); do
		port=${want_port:-$(svc_free_port)} || return 1
		if svc_pg_run "$bin/pg_ctl" -D "$data" -l "$base/pg/server.log" -w -t "$SVC_READY_TIMEOUT" \
			-o "-p $port" start >/dev/null 2>&1; then
			break
		fi
		if [[ -n $want_port ]] || ((try == 5)); then
			svc_log "PostgreSQL did not start on 127.0.0.1:$port; end of $base/pg/server.log:"
			tail -n 20 "$base/pg/server.log" >&2
			return 1
		fi
		svc_log "PostgreSQL could not start on port $port, trying another"
	done
	for ((try = 0; try < SVC_READY_TIMEOUT * 5; try++)); do
		"$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && break
		sleep 0.2
	done
	if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
		svc_log "PostgreSQL on 127.0.0.1:$port not ready after ${SVC_READY_TIMEOUT}s"
		return 1
	fi
	psql=("$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$SVC_PG_USER" -d postgres)
	if [[ -z $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$SVC_PG_DB'") ]]; then
		"${psql[@]}" -c "CREATE DATABASE $SVC_PG_DB OWNER $SVC_PG_USER" || return 1
	fi
	SVC_PG_PORT=$port
	SVC_PG_URL="postgresql://$SVC_PG_USER@127.0.0.1:$port/$SVC_PG_DB"
}

svc_pg_stop()
{
	local base=$1 bin data pid
	[[ $base == /* ]] || base=$PWD/$base
	data=$base/pg/data
	[[ -f $data/postmaster.pid ]] || return 0
	bin=$(svc_pg_bin_dir) || return 0
	svc_pg_run "$bin/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
		svc_pg_run "$bin/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
	if [[ -f $data/postmaster.pid ]]; then
		pid=$(head -n 1 "$data/postmaster.pid")
		if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
			svc_log "killing PostgreSQL $pid"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	return 0
}

svc_redis_start()
{
	local dir=$1 want_port=${2:-} port try i pid
	[[ $dir == /* ]] || dir=$PWD/$dir
	mkdir -p "$dir"
	svc_redis_stop "$dir"
	for ((try = 1; try <= 5; try++)); do
		port=${want_port:-$(svc_free_port)} || return 1
		rm -f "$dir/redis.pid"
		: >"$dir/redis.log"
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
			--dir "$dir" >/dev/null || return 1
		for ((i = 0; i < SVC_READY_TIMEOUT * 5; i++)); do
			pid=$(cat "$dir/redis.pid" 2>/dev/null) || pid=
			# Ours answers, not another server that took the port meanwhile.
			if [[ -n $pid ]] && redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
				tr -d '\r' | grep -qx "process_id:$pid"; then
				SVC_REDIS_PORT=$port
				SVC_REDIS_URL="redis://127.0.0.1:$port/0"
				return 0
			fi
			# A failed start (e.g. the port was taken) exits before writing the pid file.
			grep -q 'aborting' "$dir/redis.log" && break
			[[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		svc_redis_stop "$dir"
		if [[ -n $want_port ]] || ((try == 5)); then
			svc_log "Redis did not start on 127.0.0.1:$port; end of $dir/redis.log:"
			tail -n 20 "$dir/redis.log" >&2
			return 1
		fi
		svc_log "Redis could not start on port $port, trying another"
	done
}

svc_redis_stop()
{
	local dir=$1 pid i
	[[ $dir == /* ]] || dir=$PWD/$dir
	pid=$(cat "$dir/redis.pid" 2>/dev/null) || return 0
	if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/redis.pid"
	return 0
}

# S3: @20minutes/s3rver (npm, pinned in package.json and package-lock.json), a
# maintained fork of s3rver whose released versions check SigV4 signatures
# (header and presigned query), so a test against it proves our signing. It
# has one account, S3RVER/S3RVER, and keeps objects as files in DIR/data. It
# does not check x-amz-content-sha256 against the body, nor the region, and
# it lets unsigned requests through (real S3 refuses them on a private
# bucket): a test proves a signature only by a wrongly signed request being
# refused, never by an unsigned one.
# scripts/lib/s3rver.js starts it (node_modules stays untouched) with:
# - the bucket's CORS rules, so that a browser on the app's origin can upload
#   and play: any origin; PUT, GET, HEAD; any request header; ETag exposed;
#   preflights cached 3600 s (Access-Control-Max-Age, which s3rver only sent
#   on simple answers);
# - CompleteMultipartUpload checked as S3 does: a part never uploaded or with
#   another ETag is 400 InvalidPart (s3rver crashed into a 500 and compared
#   no ETags), parts out of order 400 InvalidPartOrder, a part but the last
#   under 5 MiB 400 EntityTooSmall, an unknown upload 404 NoSuchUpload;
# - AbortMultipartUpload (DELETE KEY?uploadId=ID; s3rver answered 405): 204,
#   the upload's parts removed; 404 NoSuchUpload for an unknown upload;
# - UploadPart into an unknown (aborted, completed) upload: 404 NoSuchUpload.
# All behind s3rver's signature check.
SVC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SVC_S3_MODULE=$SVC_ROOT/node_modules/@20minutes/s3rver
SVC_S3_ACCESS_KEY=S3RVER
SVC_S3_SECRET_KEY=S3RVER
SVC_S3_BUCKET=avatars
SVC_S3_REGION=us-east-1

# Installs the npm dev tools (package-lock.json) when the S3 server is missing.
svc_s3_install()
{
	[[ -f $SVC_S3_MODULE/package.json ]] && return 0
	command -v npm >/dev/null || { svc_log "npm is not on PATH (run scripts/install-deps.sh)"; return 1; }
	svc_log "installing the npm dev tools (npm ci) for the local S3 server"
	(cd "$SVC_ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2 || return 1
	[[ -f $SVC_S3_MODULE/package.json ]] ||
		{ svc_log "npm ci did not install $SVC_S3_MODULE"; return 1; }
}

svc_s3_start()
{
	local dir=$1 want_port=${2:-} port try i pid
	[[ $dir == /* ]] || dir=$PWD/$dir
	svc_s3_install || return 1
	mkdir -p "$dir/data"
	svc_s3_stop "$dir"
	for ((try = 1; try <= 5; try++)); do
		port=${want_port:-$(svc_free_port)} || return 1
		: >"$dir/s3.log"
		# Prints "s3rver listening on HOST:PORT" once bound; exits 1 if it cannot bind.
		node "$SVC_ROOT/scripts/lib/s3rver.js" "$SVC_S3_MODULE" "$dir/data" "$port" "$SVC_S3_BUCKET" \
			</dev/null >>"$dir/s3.log" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/s3.pid"
		for ((i = 0; i < SVC_READY_TIMEOUT * 5; i++)); do
			if grep -qx "s3rver listening on 127.0.0.1:$port" "$dir/s3.log"; then
				SVC_S3_PORT=$port
				export S3_ENDPOINT="http://127.0.0.1:$port" S3_ACCESS_KEY=$SVC_S3_ACCESS_KEY \
					S3_SECRET_KEY=$SVC_S3_SECRET_KEY S3_BUCKET=$SVC_S3_BUCKET \
					S3_REGION=$SVC_S3_REGION
				svc_log "S3 $S3_ENDPOINT bucket $S3_BUCKET (in $dir)"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		svc_s3_stop "$dir"
		if [[ -n $want_port ]] || ((try == 5)); then
			svc_log "S3 server did not start on 127.0.0.1:$port; end of $dir/s3.log:"
			tail -n 20 "$dir/s3.log" >&2
			return 1
		fi
		svc_log "S3 server could not start on port $port, trying another"
	done
}

svc_s3_stop()
{
	local dir=$1 pid i
	[[ $dir == /* ]] || dir=$PWD/$dir
	pid=$(cat "$dir/s3.pid" 2>/dev/null) || return 0
	if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q s3rver; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/s3.pid"
	return 0
}

svc_start()
{
	local base=$1 mode=$2
	[[ $base == /* ]] || base=$PWD/$base
	svc_pg_start "$base" "$mode" "${3:-}" || return 1
	svc_redis_start "$base/redis" "${4:-}" || return 1
	PG_BIN_DIR=$(svc_pg_bin_dir)
	export DATABASE_URL=$SVC_PG_URL REDIS_URL=$SVC_REDIS_URL PG_BIN_DIR
	svc_log "PostgreSQL $DATABASE_URL, Redis $REDIS_URL (in $base)"
}

svc_stop()
{
	local base=$1
	svc_s3_stop "$base/s3"
	svc_redis_stop "$base/redis"
	svc_pg_stop "$base"
	return 0
}
