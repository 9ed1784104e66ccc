#!/usr/bin/env bash
# Contract fuzz: schemathesis (tests/contract/requirements.txt, in a venv under
# the build dir) generates requests for every operation of openapi.yaml and
# sends them to the real cinema-api on throwaway PostgreSQL, Redis and S3, with
# the demo catalog seeded and an admin's bearer token. It fails on any 5xx, any
# status code the operation does not document, and any response whose body or
# content type does not match the contract.
#   scripts/contract.sh [extra schemathesis run args...]
# Environment: BUILD_DIR (default build; an existing build-asan configured with
# -DCINEMA_SANITIZE=ON runs the fuzz against the sanitizer build), CONTRACT_SEED
# (default 12), CONTRACT_EXAMPLES (test cases per operation and phase, default 50).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target cinema-api
api=$BUILD_DIR/cinema-api

# The pinned schemathesis, reinstalled when the requirements change.
venv=$BUILD_DIR/contract-venv
req=tests/contract/requirements.txt
if ! cmp -s "$req" "$venv/requirements.txt"; then
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
	cp "$req" "$venv/requirements.txt"
fi

work=$(mktemp -d /tmp/cinema-contract.XXXXXX) # in /tmp: the postgres user must reach it
api_pid=''
cleanup()
{
	if [[ -n $api_pid ]]; then
		kill -TERM "$api_pid" 2>/dev/null || true
		wait "$api_pid" 2>/dev/null || true
	fi
	svc_s3_stop "$work/s3"
	svc_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

svc_start "$work" throwaway
svc_s3_start "$work/s3"
HTTP_PORT=$(svc_free_port)
JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr '+/' '-_')
# AUTH_RATE_LIMIT: the fuzz signs in far more often than a person; a 429 is
# documented but would keep it from reaching the operations behind sign-in.
export HTTP_PORT JWT_SECRET AUTH_RATE_LIMIT=1000000 LOG_LEVEL=error \
	MIGRATIONS_DIR=$root/migrations TEMPLATES_DIR=$root/templates/email \
	OPENAPI_PATH=$root/openapi.yaml DOCS_ASSETS_DIR=$root/node_modules/swagger-ui-dist \
	PUBLIC_BASE_URL=http://127.0.0.1:$HTTP_PORT SMTP_URL=smtp://127.0.0.1:$(svc_free_port)

export CONTRACT_EMAIL=contract-admin@example.com CONTRACT_PASSWORD='Contract#Fuzz1'
email=$CONTRACT_EMAIL password=$CONTRACT_PASSWORD
"$api" migrate >/dev/null
"$api" seed >/dev/null
"$api" create-user --email "$email" --password "$password" --group ADMIN --active >/dev/null

"$api" serve >"$work/api.log" 2>&1 &
api_pid=$!
base=http://127.0.0.1:$HTTP_PORT
for ((i = 0; i < 100; i++)); do
	curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
	kill -0 "$api_pid" 2>/dev/null || { cat "$work/api.log" >&2; exit 1; }
	sleep 0.2
done
# The admin can sign in (the fuzz does so again whenever its token stops working).
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
	-d "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/api/v1/accounts/login" ||
	{ echo "contract: the admin cannot sign in at $base; end of the API log:" >&2; tail -n 30 "$work/api.log" >&2; exit 1; }

rc=0
"$venv/bin/st" --config-file tests/contract/schemathesis.toml run openapi.yaml --url "$base" \
	--seed "${CONTRACT_SEED:-12}" --max-examples "${CONTRACT_EXAMPLES:-50}" \
	--phases examples,coverage,fuzzing,stateful --workers 1 --request-timeout 20 \
	--checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
	--suppress-health-check all --warnings off "$@" || rc=$?

if ! kill -0 "$api_pid" 2>/dev/null; then
	echo "contract: cinema-api died during the run; end of its log:" >&2
	tail -n 30 "$work/api.log" >&2
	rc=1
elif ((rc != 0)) && [[ -s $work/api.log ]]; then
	echo "contract: end of the API log (errors only):" >&2
	tail -n 30 "$work/api.log" >&2
fi
exit "$rc"
