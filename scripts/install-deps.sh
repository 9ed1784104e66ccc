#!/usr/bin/env bash
# Installs the Debian packages of packages.txt that are missing or older than
# their minimum version, then checks that every one is there (scripts/packages.sh).
# With --all (the default), also Node.js >= 20.19 for the web app (web/: Vite 8
# needs it; Debian 12's nodejs is 18): when the `node` on PATH is older, the
# official Node 20 and its npm into .tools/node (see install_node below), which
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
# packages (their bin/node is nodejs.org's build), and the npm release that
# Node ships with (npm's package bundles its dependencies: Debian's npm finds
# its own in /usr/share/nodejs, which only Debian's node searches), each
# checked against the integrity pinned here, into .tools/node (gitignored).
NODE_PIN=20.20.2 NPM_PIN=10.8.2
declare -A NODE_INTEGRITY=(
	[x64]=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
	[arm64]=sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==
)
NPM_INTEGRITY=sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==

# Fetches NAME@VERSION's tarball into DIR with the system's npm and checks its
# integrity; prints the file's path.
fetch_package()
{
	local spec=$1 integrity=$2 dir=$3 tgz sum
	tgz=$dir/$(tr '@' '-' <<<"$spec").tgz
	if ! (cd "$dir" && npm pack --silent "$spec" >/dev/null) || [[ ! -f $tgz ]]; then
		echo "install-deps: npm pack $spec failed" >&2
		return 1
	fi
	sum=sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w 0)
	if [[ $sum != "$integrity" ]]; then
		echo "install-deps: $spec has integrity $sum, expected $integrity" >&2
		return 1
	fi
	printf '%s\n' "$tgz"
}

install_node()
{
	# shellcheck source=scripts/lib/node.sh
	source "$root/scripts/lib/node.sh"
	local tools=$NODE_TOOLS_DIR arch tmp node_tgz npm_tgz sys_path have
	if node_check 2>/dev/null && { [[ ! -e $tools/bin/node ]] || [[ -x $tools/bin/npm ]]; }; then
		return 0
	fi
	case $(uname -m) in
	x86_64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*)
		echo "install-deps: no Node.js $NODE_PIN build for $(uname -m); install Node >= $NODE_MIN yourself" >&2
		return 1
		;;
	esac
	have=$(node_version)
	echo "install-deps: node ${have:-(none)} is older than $NODE_MIN: installing Node.js $NODE_PIN and npm $NPM_PIN into $tools" >&2
	tmp=$(mktemp -d)
	# The system's node and npm fetch them (not a half-installed one of ours).
	sys_path=${PATH//"$tools/bin:"/}
	if ! node_tgz=$(PATH=$sys_path fetch_package "node-linux-$arch@$NODE_PIN" "${NODE_INTEGRITY[$arch]}" "$tmp") ||
		! npm_tgz=$(PATH=$sys_path fetch_package "npm@$NPM_PIN" "$NPM_INTEGRITY" "$tmp"); then
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$tmp/node" "$tmp/npm"
	tar -xzf "$node_tgz" -C "$tmp/node" package/bin/node
	tar -xzf "$npm_tgz" -C "$tmp/npm"
	rm -rf "$tools.new"
	mkdir -p "$tools.new/bin" "$tools.new/lib/node_modules"
	install -m 755 "$tmp/node/package/bin/node" "$tools.new/bin/node"
	mv "$tmp/npm/package" "$tools.new/lib/node_modules/npm"
	ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tools.new/bin/npm"
	ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tools.new/bin/npx"
	rm -rf "$tools" "$tmp"
	mv "$tools.new" "$tools"
	hash -r
	node_check && echo "install-deps: $(command -v node) is Node.js $(node_version), npm $(npm --version)" >&2
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
