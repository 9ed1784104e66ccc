#!/usr/bin/env bash
# The browser tests: builds the web app and the binaries, starts a throwaway
# stack (PostgreSQL, Redis, S3, the mail sink, the Stripe fake, cinema-api
# serving web/dist, cinema-scheduler), runs Playwright in web/ against it with
# Debian's Chromium, and stops everything.
#
#   scripts/web-test.sh [playwright args...]    e.g. scripts/web-test.sh e2e/catalog.spec.ts
#
# Environment:
#   BUILD_DIR      the CMake build tree (default build)
#   WEB_BUILD=0    use web/dist as it is (scripts/test.sh has just built it)
#   DATABASE_URL, REDIS_URL   use these servers (scripts/test.sh exports them):
#                  a fresh database of our own in that PostgreSQL, dropped at the
#                  end, and Redis database WEB_REDIS_DB (default 4; the C suites
#                  use 5-15), flushed before and after. Unset: private servers.
#   S3_ENDPOINT (with S3_ACCESS_KEY, ...)   use that S3; unset: a private s3rver
#   CI             set: Playwright retries a failed test once
# The servers listen on free loopback ports (never the default ports). Their
# logs are printed, and copied to web/test-results/stack/, when a test fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/node.sh
source scripts/lib/node.sh

say() { printf 'web-test: %s\n' "$*" >&2; }

node_check
[[ -x /usr/bin/chromium ]] || { say "/usr/bin/chromium is missing: run scripts/install-deps.sh"; exit 1; }

BUILD_DIR=${BUILD_DIR:-build}
# Configured again every time (new targets, new files); a cached build type stays.
if [[ -f $BUILD_DIR/CMakeCache.txt ]]; then
	cmake -S . -B "$BUILD_DIR" >/dev/null
else
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target cinema-api cinema-scheduler cinema-mailsink cinema-stripe-fake >/dev/null
api=$root/$BUILD_DIR/cinema-api
[[ $BUILD_DIR != /* ]] || api=$BUILD_DIR/cinema-api
bin_dir=$(dirname "$api")

node_npm_ci "$root"     # Swagger UI for /docs, the local S3 server
node_npm_ci "$root/web" # the app's toolchain, Playwright, axe
if [[ ${WEB_BUILD:-1} != 0 || ! -f web/dist/index.html ]]; then
	say "building the app (npm run build)"
	if ! build_log=$(cd web && npm run build 2>&1); then
		printf '%s\n' "$build_log" >&2
		say "the app does not build"
		exit 1
	fi
fi

# Everything of this run lives here (in /tmp: the postgres user must reach it).
tmp=$(mktemp -d /tmp/cinema-web-test.XXXXXX)
logs=$tmp/logs
mkdir -p "$logs" "$tmp/mail"
pids=()
private_services='' own_db='' own_redis='' rc=1

stop_pid()
{
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

show_logs()
{
	local f
	rm -rf web/test-results/stack
	mkdir -p web/test-results/stack
	for f in "$logs"/*.log "$tmp"/pg/server.log "$tmp"/redis/redis.log "$tmp"/s3/s3.log; do
		[[ -s $f ]] || continue
		cp "$f" "web/test-results/stack/$(basename "$(dirname "$f")")-$(basename "$f")"
		printf '\n----- %s (last 60 lines)\n' "$f" >&2
		tail -n 60 "$f" >&2
	done
	say "the stack's logs are kept in web/test-results/stack/"
}

cleanup()
{
	trap '' INT TERM # a second Ctrl-C does not cut the cleanup short
	local i
	((rc == 0)) || show_logs
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
	if [[ -n $own_db ]]; then
		"$psql" -X -q -d "$DATABASE_URL_BASE" -c "DROP DATABASE IF EXISTS $own_db WITH (FORCE)" >/dev/null 2>&1 ||
			say "could not drop database $own_db"
	fi
	[[ -z $own_redis ]] || redis-cli -u "$own_redis" flushdb >/dev/null 2>&1 || true
	[[ -z $private_services ]] || svc_stop "$tmp"
	svc_s3_stop "$tmp/s3"
	rm -rf "$tmp"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PostgreSQL and Redis: the caller's servers (a database and a Redis database
# of our own) or private ones.
psql=$(svc_pg_bin_dir)/psql
if [[ -n ${DATABASE_URL:-} && -n ${REDIS_URL:-} ]]; then
	DATABASE_URL_BASE=$DATABASE_URL
	if [[ ! $DATABASE_URL =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]]; then
		say "cannot read DATABASE_URL"
		exit 1
	fi
	db=cinema_web_$$
	"$psql" -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL_BASE" -c "CREATE DATABASE $db" >/dev/null
	own_db=$db
	DATABASE_URL=${BASH_REMATCH[1]}/$db${BASH_REMATCH[4]}
	redis_db=${WEB_REDIS_DB:-4}
	[[ $REDIS_URL =~ ^(redis://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || { say "cannot read REDIS_URL"; exit 1; }
	REDIS_URL=${BASH_REMATCH[1]}/$redis_db${BASH_REMATCH[3]}
	own_redis=$REDIS_URL
	redis-cli -u "$REDIS_URL" flushdb >/dev/null
	say "database $db in the caller's PostgreSQL, Redis database $redis_db"
else
	private_services=1
	svc_start "$tmp" throwaway 2>>"$logs/services.log"
fi
if [[ -z ${S3_ENDPOINT:-} ]]; then
	svc_s3_start "$tmp/s3" 2>>"$logs/services.log"
fi

# This run's settings, and nothing from a .data/env of scripts/run.sh.
export CINEMA_ENV_FILE= APP_ENV=development LOG_LEVEL=info
export DATABASE_URL REDIS_URL MIGRATIONS_DIR=$root/migrations TEMPLATES_DIR=$root/templates/email
export OPENAPI_PATH=$root/openapi.yaml DOCS_ASSETS_DIR=$root/node_modules/swagger-ui-dist
JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr '+/' '-_')
EMAIL_PAYLOAD_KEY=$(head -c 36 /dev/urandom | base64 | tr '+/' '-_')
export JWT_SECRET EMAIL_PAYLOAD_KEY
# Access tokens live 30 s, so that the app's silent renewal is exercised.
export ACCESS_TOKEN_TTL=30
# Every browser signs in from 127.0.0.1: no per-IP limit on sign-ins here.
export AUTH_RATE_LIMIT=100000
# What a moderator changes shows at once; emails go out at once.
export CATALOG_CACHE_TTL_MS=0 SCHEDULER_SWEEP_MS=500 EMAIL_RETRY_BASE_MS=500
HTTP_PORT=$(svc_free_port)
SMTP_PORT=$(svc_free_port)
export HTTP_HOST=127.0.0.1 HTTP_PORT PUBLIC_BASE_URL=http://127.0.0.1:$HTTP_PORT
export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT SMTP_ALLOW_PLAIN=1
export WEB_DIR=$root/web/dist

# Waits until something answers on the port (or the process is gone).
wait_port()
{
	local port=$1 pid=$2 what=$3 i
	for ((i = 0; i < 150; i++)); do
		svc_port_in_use "$port" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	say "$what did not start on port $port"
	return 1
}

"$bin_dir/cinema-mailsink" --dir "$tmp/mail" --port "$SMTP_PORT" >"$logs/mailsink.log" 2>&1 &
pids+=($!)
wait_port "$SMTP_PORT" "$!" "the mail sink"

# Payments: the Stripe fake, whose checkout page sends the signed webhook to the API.
STRIPE_PORT=$(svc_free_port)
export STRIPE_SECRET_KEY=sk_test_web_$$ STRIPE_WEBHOOK_SECRET=whsec_web_$$
export STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT
"$bin_dir/cinema-stripe-fake" --port "$STRIPE_PORT" --secret-key "$STRIPE_SECRET_KEY" \
	--webhook-secret "$STRIPE_WEBHOOK_SECRET" \
	--webhook-url "$PUBLIC_BASE_URL/api/v1/payments/webhook" >"$logs/stripe-fake.log" 2>&1 &
pids+=($!)
wait_port "$STRIPE_PORT" "$!" "the Stripe fake"

"$api" migrate >"$logs/migrate.log" 2>&1
"$api" seed >"$logs/seed.log" 2>&1

"$bin_dir/cinema-scheduler" >"$logs/scheduler.log" 2>&1 &
pids+=($!)

# The API, serving the app (WEB_DIR) on the same origin.
base_url=$PUBLIC_BASE_URL
"$api" serve >"$logs/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
ready=''
for ((i = 0; i < 150; i++)); do
	if curl -fsS -o /dev/null "$base_url/readyz" 2>/dev/null; then
		ready=1
		break
	fi
	kill -0 "$api_pid" 2>/dev/null || break
	sleep 0.2
done
[[ -n $ready ]] || { say "cinema-api is not ready at $base_url"; exit 1; }
say "stack ready: $base_url (mail in $tmp/mail, logs in $logs)"

# Settings for the fixtures (web/e2e/fixtures.ts): create-user reads the env file.
(
	umask 077
	for name in DATABASE_URL REDIS_URL MIGRATIONS_DIR TEMPLATES_DIR JWT_SECRET EMAIL_PAYLOAD_KEY \
		PUBLIC_BASE_URL SMTP_URL SMTP_ALLOW_PLAIN S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_BUCKET S3_REGION \
		ACCESS_TOKEN_TTL AUTH_RATE_LIMIT STRIPE_API_BASE STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET WEB_DIR; do
		[[ -n ${!name:-} ]] && printf '%s="%s"\n' "$name" "${!name}"
	done
) >"$tmp/env"

set +e
(
	cd web
	export CINEMA_BASE_URL=$base_url CINEMA_MAIL_DIR=$tmp/mail CINEMA_API_BIN=$api \
		CINEMA_STACK_ENV=$tmp/env CINEMA_STRIPE_URL=$STRIPE_API_BASE
	exec ./node_modules/.bin/playwright test "$@"
) &
pw=$!
pids+=("$pw")
wait "$pw"
rc=$?
set -e
if ((rc == 0)); then
	say "passed"
else
	say "FAILED (playwright exit $rc); report: web/playwright-report/index.html"
fi
exit "$rc"
