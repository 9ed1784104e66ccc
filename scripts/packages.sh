#!/usr/bin/env bash
# Reads packages.txt, the one list of the Debian packages the project needs.
#
#   scripts/packages.sh [SECTION...] [MODE]
#
# SECTION: --build, --test, --services, --tools, --runtime, --compose, or --all
# (the default: every section but compose, i.e. a developer machine and CI);
# several add up. MODE:
#   (none)      print the package names, one a line
#   --versions  print "name >= VERSION" for packages with a minimum, else "name"
#   --missing   print the packages to install: not installed (nor provided by an
#               installed package), or installed older than their minimum
#   --check     check that every package is installed at its minimum version or
#               newer; print each one that is not and exit 1
# Exits 2 on a malformed packages.txt or bad arguments. Needs bash, awk and,
# for --missing and --check, dpkg: it runs in a bare debian:12-slim.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list=${PACKAGES_FILE:-$root/packages.txt}
all_sections="build test services tools runtime"
known_sections="$all_sections compose"

usage()
{
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

sections='' mode=names
for arg in "$@"; do
	case $arg in
	--all) sections="$sections $all_sections" ;;
	--build | --test | --services | --tools | --runtime | --compose) sections="$sections ${arg#--}" ;;
	--versions | --missing | --check) mode=${arg#--} ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "packages.sh: unknown argument \"$arg\"" >&2
		usage >&2
		exit 2
		;;
	esac
done
[[ -n $sections ]] || sections=$all_sections

# "name minimum" lines ("-" when there is none) of the chosen sections, in file
# order, each package once; a malformed line stops everything.
entries=$(awk -v file="$list" -v want="$sections" -v known="$known_sections" '
	function bad(why) { printf "packages.sh: %s:%d: %s\n", file, NR, why > "/dev/stderr"; failed = 1; exit 2 }
	BEGIN {
		n = split(want, w, " "); for (i = 1; i <= n; i++) chosen[w[i]] = 1
		n = split(known, k, " "); for (i = 1; i <= n; i++) valid[k[i]] = 1
	}
	{ sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
	$0 == "" { next }
	/^\[/ {
		if ($0 !~ /^\[[a-z]+\]$/) bad("a section header looks like [build]")
		section = substr($0, 2, length($0) - 2)
		if (!(section in valid)) bad("unknown section [" section "]")
		next
	}
	{
		if (section == "") bad("package outside a section: " $1)
		if ($1 !~ /^[a-z0-9][a-z0-9+.-]+$/) bad("not a Debian package name: " $1)
		if (NF == 1) min = "-"
		else if (NF == 3 && $2 == ">=" && $3 ~ /^[0-9][A-Za-z0-9.+~:-]*$/) min = $3
		else bad("expected \"name\" or \"name >= VERSION\"")
		if (!(section in chosen) || seen[$1]++) next
		print $1, min
	}
	END { if (failed) exit 2 }
' "$list") || exit 2

if [[ $mode == names || $mode == versions ]]; then
	while read -r name min; do
		[[ -n $name ]] || continue
		if [[ $mode == versions && $min != - ]]; then
			printf '%s >= %s\n' "$name" "$min"
		else
			printf '%s\n' "$name"
		fi
	done <<<"$entries"
	exit 0
fi

# Installed packages as "name version", and the names that installed packages
# provide as "name -" (e.g. NodeSource's nodejs provides npm).
installed=$(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Version}|${Provides}\n' 2>/dev/null |
	awk -F'|' '$1 ~ /^ii/ {
		print $2, $3
		n = split($4, p, ",")
		for (i = 1; i <= n; i++) { sub(/\(.*/, "", p[i]); gsub(/[ \t]/, "", p[i]); if (p[i] != "") print p[i], "-" }
	}')
declare -A version=()
while read -r name ver; do
	[[ -n $name ]] || continue
	# A real package's version wins over a mere "provided".
	[[ $ver == - && -n ${version[$name]:-} ]] || version[$name]=$ver
done <<<"$installed"

problems=0
while read -r name min; do
	[[ -n $name ]] || continue
	have=${version[$name]:-}
	why=''
	if [[ -z $have ]]; then
		why="$name is not installed"
	elif [[ $min != - && $have != - ]] && ! dpkg --compare-versions "$have" ge "$min"; then
		why="$name $have is older than $min"
	fi
	[[ -n $why ]] || continue
	if [[ $mode == missing ]]; then
		printf '%s\n' "$name"
	else
		printf 'packages.sh: %s\n' "$why" >&2
		problems=$((problems + 1))
	fi
done <<<"$entries"

if ((problems > 0)); then
	echo "packages.sh: $problems package(s) missing or too old (scripts/install-deps.sh installs them)" >&2
	exit 1
fi
exit 0
