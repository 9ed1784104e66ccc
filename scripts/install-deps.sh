#!/usr/bin/env bash
# Installs the Debian packages of packages.txt that are missing or older than
# their minimum version, then checks that every one is there (scripts/packages.sh).
# Quick no-op when everything is present: one dpkg-query, no apt.
#
#   scripts/install-deps.sh [SECTION...] [--no-install-recommends]
#
# SECTION as for scripts/packages.sh: --build, --test, --services, --tools,
# --runtime, --compose or --all (the default: a developer machine or CI;
# everything but compose, which scripts/check-compose.sh installs). docker/Dockerfile
# installs --build --test in its build stage and --runtime in the images,
# without recommended packages.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
packages=$root/scripts/packages.sh

sections=() apt_opts=()
for arg in "$@"; do
	case $arg in
	--all | --build | --test | --services | --tools | --runtime | --compose) sections+=("$arg") ;;
	--no-install-recommends) apt_opts+=("$arg") ;;
	*)
		echo "install-deps: unknown argument \"$arg\"" >&2
		echo "usage: scripts/install-deps.sh [--all|--build|--test|--services|--tools|--runtime|--compose]... [--no-install-recommends]" >&2
		exit 2
		;;
	esac
done
((${#sections[@]} > 0)) || sections=(--all)

mapfile -t missing < <("$packages" "${sections[@]}" --missing)
wait $! # packages.sh's exit status: a malformed packages.txt stops here

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt_opts[@]}" "${missing[@]}"
# What apt could offer may still be too old (another release, a stale mirror).
"$packages" "${sections[@]}" --check
