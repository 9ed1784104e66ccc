# shellcheck shell=bash
# The Node.js the web app needs (>= 20.19: Vite 8). Source this file: it puts
# .tools/node/bin first on PATH, where scripts/install-deps.sh installs Node 20
# when the system's is older (Debian 12's nodejs is 18), and offers:
#
#   node_check               fails with a message unless `node` is >= NODE_MIN
#   node_npm_ci DIR          `npm ci` in DIR when its node_modules is missing or
#                            older than its package-lock.json (never downloads a
#                            browser: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)

NODE_MIN=20.19.0
NODE_TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools/node
# Even before it exists: scripts/install-deps.sh may install it after this.
if [[ :$PATH: != *":$NODE_TOOLS_DIR/bin:"* ]]; then
	PATH=$NODE_TOOLS_DIR/bin:$PATH
	export PATH
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# Prints the version of `node` on PATH (without the v), or nothing.
node_version()
{
	local v
	v=$(node --version 2>/dev/null) || return 0
	printf '%s\n' "${v#v}"
}

node_check()
{
	local v
	v=$(node_version)
	if [[ -z $v ]]; then
		echo "node: no \`node\` on PATH; run scripts/install-deps.sh (the web app needs Node >= $NODE_MIN)" >&2
		return 1
	fi
	if [[ $(printf '%s\n' "$NODE_MIN" "$v" | sort -V | head -n 1) != "$NODE_MIN" ]]; then
		echo "node: $(command -v node) is $v; the web app needs >= $NODE_MIN: run scripts/install-deps.sh" >&2
		return 1
	fi
}

node_npm_ci()
{
	local dir=$1
	if [[ -f $dir/node_modules/.package-lock.json && ! $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
		return 0
	fi
	echo "node: npm ci in $dir" >&2
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
