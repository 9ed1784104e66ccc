#!/usr/bin/env bash
# Installs the Debian packages of packages.txt that are missing or older than
# their minimum version, then checks that every one is there (scripts/packages.sh).
# With --all (the default), also Node.js >= 20.19 for the web app (web/: Vite 8
# needs it; Debian 12's nodejs is 18): when the `node` on PATH is older, the
# official Node 20 binary into .tools/node (see install_node below), which
# scripts/lib/node.sh puts first on PATH for run.sh, test.sh and web-test.sh.
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

sections=() apt_opts=() want_node=''
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
[[ " ${sections[*]} " != *" --all "* ]] || want_node=1

# The official Node.js binary, from the npm registry's node-linux-<arch>
# packages (their bin/node is nodejs.org's build), checked against the
# integrity pinned here, installed into .tools/node/bin (gitignored). npm stays
# the system's: it runs on the node first on PATH.
NODE_PIN=20.20.2
declare -A NODE_INTEGRITY=(
	[x64]=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
	[arm64]=sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==
)
install_node()
{
	# shellcheck source=scripts/lib/node.sh
	source "$root/scripts/lib/node.sh"
	node_check 2>/dev/null && return 0
	local arch tmp tgz sum
	case $(uname -m) in
	x86_64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*)
		echo "install-deps: no Node.js $NODE_PIN build for $(uname -m); install Node >= $NODE_MIN yourself" >&2
		return 1
		;;
	esac
	command -v npm >/dev/null || { echo "install-deps: npm is missing (packages.txt [build])" >&2; return 1; }
	echo "install-deps: node $(node_version) is older than $NODE_MIN: installing Node.js $NODE_PIN into $NODE_TOOLS_DIR" >&2
	tmp=$(mktemp -d)
	tgz=$tmp/node-linux-$arch-$NODE_PIN.tgz
	if ! (cd "$tmp" && npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$NODE_PIN" >/dev/null) ||
		[[ ! -f $tgz ]]; then
		echo "install-deps: npm pack node-linux-$arch@$NODE_PIN failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	sum=sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w 0)
	if [[ $sum != "${NODE_INTEGRITY[$arch]}" ]]; then
		echo "install-deps: node-linux-$arch-$NODE_PIN.tgz has integrity $sum, expected ${NODE_INTEGRITY[$arch]}" >&2
		rm -rf "$tmp"
		return 1
	fi
	tar -xzf "$tgz" -C "$tmp" package/bin/node
	mkdir -p "$NODE_TOOLS_DIR/bin"
	install -m 755 "$tmp/package/bin/node" "$NODE_TOOLS_DIR/bin/node.tmp"
	mv -f "$NODE_TOOLS_DIR/bin/node.tmp" "$NODE_TOOLS_DIR/bin/node"
	rm -rf "$tmp"
	PATH=$NODE_TOOLS_DIR/bin:$PATH
	hash -r
	node_check && echo "install-deps: $(command -v node) is Node.js $(node_version)" >&2
}

mapfile -t missing < <("$packages" "${sections[@]}" --missing)
wait $! # packages.sh's exit status: a malformed packages.txt stops here

if ((${#missing[@]} == 0)); then
	[[ -z $want_node ]] || install_node
	exit
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
[[ -z $want_node ]] || install_node
