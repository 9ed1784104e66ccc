#!/usr/bin/env bash
# A PostgreSQL primary and a streaming standby of it, for the read replica
# test (tests/e2e/test_replica.c); built on scripts/lib/services.sh, so the
# servers run as the `postgres` user when we are root, on free loopback
# ports, with trust authentication.
#
#   pg_replica.sh start DIR          primary in DIR/primary, standby (pg_basebackup -R)
#                                    in DIR/standby; prints "PRIMARY_PORT STANDBY_PORT"
#   pg_replica.sh stop-standby DIR   stops the standby only
#   pg_replica.sh start-standby DIR  starts it again, on the same port
#   pg_replica.sh stop DIR           stops both (never fails)
#
# Both clusters have the role and database `cinema`. The primary keeps the
# defaults that streaming needs (wal_level = replica, max_wal_senders = 10)
# and lets 127.0.0.1 connect for replication.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/services.sh disable=SC1091
source "$root/scripts/lib/services.sh"

cmd=${1:-} dir=${2:-}
[[ -n $cmd && $dir == /* ]] || {
	echo "usage: pg_replica.sh start|stop-standby|stop /abs/dir" >&2
	exit 2
}
bin=$(svc_pg_bin_dir)

start()
{
	# throwaway: no fsync (pg_basebackup forces full-page writes while it
	# copies, which is all a standby needs of them).
	svc_pg_start "$dir/primary" throwaway >&2
	local pport=$SVC_PG_PORT pdata=$dir/primary/pg/data sdata=$dir/standby/pg/data sport
	local psql=("$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pport" -U "$SVC_PG_USER" -d postgres)
	echo "host replication all 127.0.0.1/32 trust" | svc_pg_run tee -a "$pdata/pg_hba.conf" >/dev/null
	"${psql[@]}" -c "SELECT pg_reload_conf()" >/dev/null

	mkdir -p "$dir/standby/pg"
	chmod 700 "$dir/standby/pg"
	((EUID != 0)) || chown postgres: "$dir/standby/pg"
	svc_pg_run "$bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U "$SVC_PG_USER" -D "$sdata" \
		-R -X stream --no-sync --checkpoint=fast >"$dir/standby/pg/basebackup.log" 2>&1 ||
		{ svc_log "pg_basebackup failed:"; cat "$dir/standby/pg/basebackup.log" >&2; return 1; }
	# The copied postgresql.conf names the primary's socket directory.
	printf '%s\n' "unix_socket_directories = ''" "hot_standby = on" |
		svc_pg_run tee -a "$sdata/postgresql.conf" >/dev/null
	local try
	for ((try = 1; try <= 5; try++)); do
		sport=$(svc_free_port)
		# In the file, so that start-standby finds the same port.
		echo "port = $sport" | svc_pg_run tee -a "$sdata/postgresql.conf" >/dev/null
		if standby_start; then
			printf '%s %s\n' "$pport" "$sport"
			return 0
		fi
	done
	svc_log "the standby did not start; end of its log:"
	tail -n 20 "$dir/standby/pg/server.log" >&2
	return 1
}

standby_start()
{
	svc_pg_run "$bin/pg_ctl" -D "$dir/standby/pg/data" -l "$dir/standby/pg/server.log" -w \
		-t "$SVC_READY_TIMEOUT" start >/dev/null 2>&1
}

case $cmd in
start) start ;;
stop-standby) svc_pg_stop "$dir/standby" ;;
start-standby) standby_start ;;
stop)
	svc_pg_stop "$dir/standby"
	svc_pg_stop "$dir/primary"
	;;
*)
	echo "pg_replica.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
