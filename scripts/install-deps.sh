#!/usr/bin/env bash
# Installs the Debian packages of packages.txt that are missing.
# Quick no-op when everything is present: one dpkg-query, no apt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list="$root/packages.txt"

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')

# Names that are installed, or provided by an installed package
# (e.g. NodeSource's nodejs provides npm).
have=$(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null |
	awk -F'|' '$1 ~ /^ii/ {
		print $2
		n = split($3, p, ",")
		for (i = 1; i <= n; i++) { sub(/\(.*/, "", p[i]); gsub(/[[:space:]]/, "", p[i]); if (p[i] != "") print p[i] }
	}' | sort -u)

missing=()
for pkg in "${wanted[@]}"; do
	grep -qxF -- "$pkg" <<<"$have" || missing+=("$pkg")
done

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
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
