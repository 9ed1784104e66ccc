#!/usr/bin/env bash
# Checks the compose files against .env.example, without a Docker engine:
# docker-compose.yml and docker/compose.prod.yml must be valid
# (`docker-compose config -q`, Debian's docker-compose) and use no variable
# that the example leaves unset (compose warns "variable is not set").
# Installs docker-compose (packages.txt, section compose) when it is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Without recommended packages: docker-compose recommends the Docker engine.
scripts/install-deps.sh --compose --no-install-recommends

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp .env.example "$tmp/env"
# A stand-in for the production .env: the example plus what only production sets.
cp "$tmp/env" "$tmp/env.prod"
cat >>"$tmp/env.prod" <<'EOF'
CINEMA_REGISTRY=123456789012.dkr.ecr.eu-west-1.amazonaws.com
CINEMA_TAG=v0.0.0-check
DOMAIN=cinema.example.com
ACME_EMAIL=ops@example.com
AWS_REGION=eu-west-1
S3_ENDPOINT=https://s3.eu-west-1.amazonaws.com
S3_REGION=eu-west-1
S3_ACCESS_KEY=example-access-key-id
S3_SECRET_KEY=example-not-a-secret
EOF

failed=0
check()
{
	local name=$1 env=$2 file=$3 out
	# --env-file: the ${...}; CINEMA_ENV_FILE: the services' env_file. The
	# project directory is the file's, as when it is used.
	if ! out=$(CINEMA_ENV_FILE=$env docker-compose --project-directory "$(dirname "$file")" \
		--env-file "$env" -f "$file" config -q 2>&1); then
		printf 'check-compose: %s is invalid:\n%s\n' "$name" "$out" >&2
		failed=1
	elif [[ -n $out ]]; then
		# Warnings (an unset variable, a deprecated key) fail the check too.
		printf 'check-compose: %s:\n%s\n' "$name" "$out" >&2
		failed=1
	else
		echo "check-compose: $name ok"
	fi
}
check "docker-compose.yml with .env.example" "$tmp/env" "$root/docker-compose.yml"
check "docker/compose.prod.yml with .env.example and production values" "$tmp/env.prod" \
	"$root/docker/compose.prod.yml"
exit "$failed"
