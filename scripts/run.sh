#!/usr/bin/env bash
# Builds and runs the web app, the API and the scheduler on local PostgreSQL and Redis kept
# in .data/ (persistent; their ports are remembered in .data/ports). Ctrl-C stops
# everything it started.
# Environment: DATABASE_URL and REDIS_URL (use those servers instead), HTTP_PORT
# (default 8000, or the next free one), JWT_SECRET and EMAIL_PAYLOAD_KEY
# (default: dev keys kept in .data/), SEED=1 (seed again; by default only the
# first run seeds the demo catalog and its demo media, made with ffmpeg into
# .data/media by scripts/demo-media.sh), RUN_DATA_DIR (instead of .data, for tests),
# STRIPE_SECRET_KEY (with STRIPE_WEBHOOK_SECRET: use Stripe; unset, payments go
# to cinema-stripe-fake, a local fake with a checkout page, keys in .data/),
# WEB_DIR (serve this built app instead of building web/ into web/dist).
# The settings of the run go to .data/env, which the binaries read for what
# their environment does not set: commands typed from this directory in
# another terminal reach this run's servers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Refuse a second run on the same data first, before installing or building.
data=${RUN_DATA_DIR:-$root/.data}
mkdir -p "$data"
exec 9>"$data/run.lock" # closed (9>&-) for every child so it dies with us
flock -n 9 || { echo "run.sh: another scripts/run.sh is using $data" >&2; exit 1; }

# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/node.sh
source scripts/lib/node.sh # Node >= 20.19 first on PATH (.tools/node when installed there)

scripts/install-deps.sh 9>&-
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null 9>&-
cmake --build "$BUILD_DIR" -j"$(nproc)" --target cinema-api cinema-scheduler cinema-mailsink \
	cinema-stripe-fake 9>&-
api=$BUILD_DIR/cinema-api
scheduler=$BUILD_DIR/cinema-scheduler
mailsink=$BUILD_DIR/cinema-mailsink
stripe_fake=$BUILD_DIR/cinema-stripe-fake
# This run's own children take their settings from this environment only,
# never from the env file of an earlier run.
export CINEMA_ENV_FILE=

pids=()
services=
cleanup()
{
	trap '' INT TERM # a second Ctrl-C does not cut the cleanup short
	local pid i
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	[[ -z $services ]] || svc_stop "$data"
	[[ -z ${s3_started:-} ]] || svc_s3_stop "$data/s3"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${DATABASE_URL:-} || -z ${REDIS_URL:-} ]]; then
	services=1
	svc_stop "$data" # leftovers of a run that was killed: we hold the lock
	# Reuse the ports of the last run when they are free.
	PG_PORT='' REDIS_PORT=''
	# shellcheck disable=SC1091
	[[ -f $data/ports ]] && source "$data/ports"
	[[ -n $PG_PORT ]] && svc_port_in_use "$PG_PORT" && PG_PORT=''
	[[ -n $REDIS_PORT ]] && svc_port_in_use "$REDIS_PORT" && REDIS_PORT=''
	if [[ -z ${DATABASE_URL:-} ]]; then
		svc_pg_start "$data" persistent "$PG_PORT" 9>&-
		PG_PORT=$SVC_PG_PORT DATABASE_URL=$SVC_PG_URL
		echo "run.sh: PostgreSQL $DATABASE_URL (data in $data/pg)"
	fi
	if [[ -z ${REDIS_URL:-} ]]; then
		svc_redis_start "$data/redis" "$REDIS_PORT" 9>&-
		REDIS_PORT=$SVC_REDIS_PORT REDIS_URL=$SVC_REDIS_URL
		echo "run.sh: Redis $REDIS_URL"
	fi
	printf 'PG_PORT=%s\nREDIS_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" >"$data/ports"
fi
export DATABASE_URL REDIS_URL

if [[ -z ${JWT_SECRET:-} ]]; then
	if [[ ! -s $data/jwt_secret ]]; then
		(umask 077 && head -c 36 /dev/urandom | base64 | tr '+/' '-_' >"$data/jwt_secret")
	fi
	JWT_SECRET=$(<"$data/jwt_secret")
fi
if [[ -z ${EMAIL_PAYLOAD_KEY:-} ]]; then
	if [[ ! -s $data/email_payload_key ]]; then
		(umask 077 && head -c 36 /dev/urandom | base64 | tr '+/' '-_' >"$data/email_payload_key")
	fi
	EMAIL_PAYLOAD_KEY=$(<"$data/email_payload_key")
fi
export EMAIL_PAYLOAD_KEY
export JWT_SECRET MIGRATIONS_DIR=${MIGRATIONS_DIR:-$root/migrations}
export TEMPLATES_DIR=${TEMPLATES_DIR:-$root/templates/email}
export OPENAPI_PATH=${OPENAPI_PATH:-$root/openapi.yaml}
export DOCS_ASSETS_DIR=${DOCS_ASSETS_DIR:-$root/node_modules/swagger-ui-dist}
# Swagger UI for /docs and the local S3 server come from npm (package.json).
[[ -d $root/node_modules/swagger-ui-dist ]] || npm ci --no-audit --no-fund --loglevel=error

# The web app (web/, Node >= 20.19) is built into web/dist when a source is
# newer than the last build, and cinema-api serves it (WEB_DIR) on every path
# outside the API's.
if [[ -z ${WEB_DIR:-} ]]; then
	node_check
	node_npm_ci web 9>&-
	if [[ ! -f web/dist/index.html || -n $(find web/src web/public web/index.html web/package-lock.json \
		web/vite.config.ts -newer web/dist/index.html -print -quit) ]]; then
		echo "run.sh: building the web app into web/dist"
		(cd web && npm run --silent build) 9>&-
	fi
	WEB_DIR=$root/web/dist
fi
export WEB_DIR

# Avatars go to a local S3-compatible server kept in .data/s3, unless
# S3_ENDPOINT names a real one.
if [[ -z ${S3_ENDPOINT:-} ]]; then
	svc_s3_start "$data/s3" 9>&-
	s3_started=1
fi

"$api" migrate 9>&-
if seed_help=$("$api" seed --help 2>&1 9>&-); then
	if [[ ${SEED:-} == 1 || ! -f $data/seeded ]]; then
		"$api" seed 9>&-
		touch "$data/seeded"
	fi
fi
# Demo media for the demo catalog, made locally with ffmpeg (posters for the
# first movies, a few trailers and features: scripts/demo-media.sh) and
# uploaded to S3 by `cinema-api seed --media`: once per data directory (again
# with SEED=1). The app runs without them when that fails.
media_dir=$data/media
if [[ ${seed_help:-} == *--media* && (${SEED:-} == 1 || ! -f $data/media-seeded) ]]; then
	echo "run.sh: demo media: posters, trailers and features into $media_dir (ffmpeg: about 30 s on two idle cores the first time)"
	if scripts/demo-media.sh "$media_dir" 9>&- && "$api" seed --media "$media_dir" 9>&-; then
		touch "$data/media-seeded"
	else
		echo "run.sh: the demo media are not loaded (see above); the app runs without them (SEED=1 tries again)" >&2
	fi
fi
# The demo films that can be watched once bought, for the banner.
watch_note=
if [[ -f $data/media-seeded && -f $media_dir/media.tsv ]]; then
	watch_note=$(awk -F '\t' '$1 == "#title" { t[$2] = $3 }
		$2 == "feature" { f = f (f == "" ? "" : ", ") t[$1] } END { print f }' "$media_dir/media.tsv")
	[[ -z $watch_note ]] ||
		watch_note=$'\n  watch      '"buy one of these and press Watch: $watch_note"
fi

if [[ -z ${HTTP_PORT:-} ]]; then
	HTTP_PORT=8000
	while svc_port_in_use "$HTTP_PORT"; do HTTP_PORT=$((HTTP_PORT + 1)); done
	[[ $HTTP_PORT == 8000 ]] || echo "run.sh: port 8000 is taken, using $HTTP_PORT"
fi
export HTTP_PORT

# Outgoing mail goes to a local sink that keeps each message as a file,
# unless SMTP_URL names a real server.
mail_note="sent through $(sed -E 's#//[^@/]*@#//#' <<<"${SMTP_URL:-}")"
if [[ -z ${SMTP_URL:-} ]]; then
	SMTP_PORT=1025
	while svc_port_in_use "$SMTP_PORT"; do SMTP_PORT=$((SMTP_PORT + 1)); done
	"$mailsink" --dir "$data/mail" --port "$SMTP_PORT" >/dev/null 9>&- &
	pids+=($!)
	SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
	SMTP_ALLOW_PLAIN=1 # the sink has no STARTTLS; a real server needs TLS
	mail_cmd=scripts/mail.sh
	[[ $data == "$root/.data" ]] || mail_cmd="RUN_DATA_DIR=$data scripts/mail.sh"
	mail_note="kept as files in $data/mail/ (the newest, with its links: $mail_cmd)"
fi
export SMTP_URL SMTP_ALLOW_PLAIN=${SMTP_ALLOW_PLAIN:-0} PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$HTTP_PORT}

# Payments go to a local Stripe fake with a checkout page of its own (Pay or
# Cancel; it sends the signed webhook to this API), unless STRIPE_SECRET_KEY
# names a Stripe account. Its keys are dev keys kept in .data/.
stripe_note="Stripe at ${STRIPE_API_BASE:-https://api.stripe.com} (STRIPE_SECRET_KEY is set)"
if [[ -z ${STRIPE_SECRET_KEY:-} ]]; then
	for key in stripe_secret_key:sk_test_fake_ stripe_webhook_secret:whsec_fake_; do
		if [[ ! -s $data/${key%%:*} ]]; then
			(umask 077 && printf '%s%s\n' "${key#*:}" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$data/${key%%:*}")
		fi
	done
	STRIPE_SECRET_KEY=$(<"$data/stripe_secret_key")
	STRIPE_WEBHOOK_SECRET=$(<"$data/stripe_webhook_secret")
	STRIPE_PORT=12111
	while svc_port_in_use "$STRIPE_PORT"; do STRIPE_PORT=$((STRIPE_PORT + 1)); done
	STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT
	"$stripe_fake" --port "$STRIPE_PORT" --secret-key "$STRIPE_SECRET_KEY" \
		--webhook-secret "$STRIPE_WEBHOOK_SECRET" \
		--webhook-url "http://127.0.0.1:$HTTP_PORT/api/v1/payments/webhook" \
		>"$data/stripe-fake.log" 2>&1 9>&- &
	pids+=($!)
	for ((i = 0; i < 50; i++)); do
		svc_port_in_use "$STRIPE_PORT" && break
		kill -0 "${pids[-1]}" 2>/dev/null || { cat "$data/stripe-fake.log" >&2; exit 1; }
		sleep 0.1
	done
	stripe_note="a local fake (test mode, no Stripe account): checkout pages at $STRIPE_API_BASE/checkout/...; log in $data/stripe-fake.log"
fi
export STRIPE_API_BASE STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET

# Every setting of this run, for the commands of another terminal (create-user,
# seed, cinema-scheduler status, healthcheck): the binaries read .data/env from
# their working directory (or the file CINEMA_ENV_FILE names) for what their
# environment leaves unset. Written whole, then renamed; readable by us only.
env_file=$data/env
rm -f "$env_file.tmp"
(
	umask 077
	exec >"$env_file.tmp"
	echo "# written by scripts/run.sh (pid $$) at $(date -u +%FT%TZ); the environment overrides it"
	"$api" --help 9>&- | sed -nE 's/^  ([A-Z][A-Z0-9_]*) .*/\1/p' | while read -r name; do
		[[ -n ${!name+x} ]] || continue
		value=${!name}
		[[ $value != *$'\n'* ]] || { echo "run.sh: $name holds a newline" >&2; exit 1; }
		value=${value//\\/\\\\} value=${value//\"/\\\"}
		value=${value//\$/\\\$} value=${value//\`/\\\`}
		printf '%s="%s"\n' "$name" "$value"
	done
) || exit 1
mv -f "$env_file.tmp" "$env_file"
if [[ $data == "$root/.data" ]]; then
	cli_env= cli_note="from $root, in another terminal (settings from .data/env):"
else
	cli_env="CINEMA_ENV_FILE=$env_file " cli_note="in another terminal:"
fi

"$scheduler" 9>&- &
pids+=($!)
"$api" serve 9>&- &
api_pid=$!
pids+=("$api_pid")

base=http://127.0.0.1:$HTTP_PORT
for ((i = 0; i < 50; i++)); do
	curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
	kill -0 "$api_pid" 2>/dev/null || break
	sleep 0.2
done
cat <<MSG

  app        $base/   (open it in a browser)
  API        $base/api/v1/
  liveness   $base/healthz
  readiness  $base/readyz
  emails     $mail_note
  payments   $stripe_note$watch_note
  docs       $base/docs (sign in with an account)
  commands   $cli_note
             ${cli_env}$api create-user --email you@example.com --password 'Secret#123' --group ADMIN --active
             ${cli_env}$api seed
             ${cli_env}$api healthcheck && echo ready
             ${cli_env}$scheduler status
  Ctrl-C stops the API, the scheduler, the mail sink, $([[ -n ${STRIPE_PORT:-} ]] && echo "the Stripe fake, ")S3$([[ -n $services ]] && echo ", PostgreSQL and Redis").

MSG
wait "$api_pid"
