#!/usr/bin/env bash
# scripts/demo-media.sh: a few posters, trailers and features from a titles
# file whose names need escaping in an ffmpeg filter; the manifest names each
# file once with its kind and duration; the files are what they claim (JPEG,
# WebM with VP9 and Opus, the right sizes); a second run keeps them; errors are
# plain (no ffmpeg, a bad option, an unreadable data file).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/cinema-demo-media.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_demo_media: $*" >&2; exit 1; }
command -v ffprobe >/dev/null || fail "ffprobe is missing (package ffmpeg: scripts/install-deps.sh)"

cat >"$tmp/movies.json" <<'JSON'
[
	{"name": "It's 100% \"Quoted\": a\\b, c; d=e [f] {g} 'h'", "year": 1999},
	{"name": "Léon: Ünïcödé", "year": 1994},
	{"name": "A Title So Long That It Has To Be Wrapped Over Several Lines Of The Poster Band", "year": 2001},
	{"name": "The Fourth", "year": 2020}
]
JSON
out=$tmp/media
args=("$out" --titles "$tmp/movies.json" --count 3 --trailers 2 --features 1
	--feature-seconds 3 --trailer-seconds 2)
log=$("$root/scripts/demo-media.sh" "${args[@]}" 2>&1) || fail "it failed:"$'\n'"$log"
grep -q '(6 made, 0 kept' <<<"$log" || fail "expected 6 files made: $log"

# The manifest: comments, then INDEX KIND FILE DURATION_S, every file once.
expected=$'1\tposter\tposter-001.jpg\t-
1\ttrailer\ttrailer-001.webm\t2
1\tfeature\tfeature-001.webm\t3
2\tposter\tposter-002.jpg\t-
2\ttrailer\ttrailer-002.webm\t2
3\tposter\tposter-003.jpg\t-'
got=$(grep -v '^#' "$out/media.tsv")
[[ $got == "$expected" ]] || fail "manifest:"$'\n'"$got"$'\n'"expected:"$'\n'"$expected"
grep -qxF $'#title\t2\tLéon: Ünïcödé (1994)' "$out/media.tsv" || fail "no title comment for 2"
! grep -q "The Fourth" "$out/media.tsv" || fail "a 4th movie with --count 3"
[[ $(find "$out" -mindepth 1 | wc -l) == 7 ]] || fail "other files in $out: $(ls -a "$out")"

# Each file sniffs as its type (the magic bytes the API checks) and probes right.
magic() { head -c "$2" "$1" | od -An -tx1 | tr -d ' \n'; }
probe() { ffprobe -v error -show_entries "$2" -of default=nw=1:nk=1 "$1" | tr '\n' ' ' | sed 's/ $//'; }
while IFS=$'\t' read -r _ kind file dur; do
	[[ -s $out/$file ]] || fail "$file is missing or empty"
	case $kind in
	poster)
		[[ $(magic "$out/$file" 3) == ffd8ff ]] || fail "$file is not a JPEG"
		[[ $(probe "$out/$file" stream=codec_name,width,height) == "mjpeg 400 600" ]] ||
			fail "$file: $(probe "$out/$file" stream=codec_name,width,height)"
		;;
	trailer | feature)
		[[ $(magic "$out/$file" 4) == 1a45dfa3 ]] || fail "$file is not WebM (EBML)"
		size="480 270"
		[[ $kind == trailer ]] || size="640 360"
		[[ $(probe "$out/$file" stream=codec_name,width,height) == "vp9 $size opus" ]] ||
			fail "$file: $(probe "$out/$file" stream=codec_name,width,height)"
		d=$(probe "$out/$file" format=duration)
		awk -v d="$d" -v want="$dur" 'BEGIN { exit !(d > want - 0.5 && d < want + 0.5) }' ||
			fail "$file lasts $d s, not $dur"
		[[ $(probe "$out/$file" format=format_name) == matroska,webm ]] || fail "$file: not webm"
		;;
	*) fail "unknown kind $kind" ;;
	esac
done < <(grep -v '^#' "$out/media.tsv")
# Posters differ from one another.
[[ $(md5sum "$out"/poster-*.jpg | cut -d' ' -f1 | sort -u | wc -l) == 3 ]] || fail "posters are alike"

# The same index gets the same poster in another directory.
"$root/scripts/demo-media.sh" "$tmp/again" --titles "$tmp/movies.json" --count 3 --trailers 0 \
	--features 0 >/dev/null 2>&1 || fail "posters alone failed"
[[ $(cd "$out" && md5sum poster-*) == "$(cd "$tmp/again" && md5sum poster-*)" ]] ||
	fail "posters differ from one run to the next"

# Again: nothing is made, nothing changes.
sums=$(cd "$out" && md5sum -- *)
log=$("$root/scripts/demo-media.sh" "${args[@]}" 2>&1) || fail "second run failed:"$'\n'"$log"
grep -q '(0 made, 6 kept' <<<"$log" || fail "second run: $log"
[[ $(cd "$out" && md5sum -- *) == "$sums" ]] || fail "second run changed files"
# A lost file is made again, alone.
rm "$out/trailer-002.webm"
log=$("$root/scripts/demo-media.sh" "${args[@]}" 2>&1) || fail "third run failed:"$'\n'"$log"
grep -q '(1 made, 5 kept' <<<"$log" || fail "third run: $log"
[[ -s $out/trailer-002.webm && ! -e $out/.trailer-002.webm.part ]] || fail "trailer-002 not made again"

# Without --count: a poster for every movie of the data file.
log=$("$root/scripts/demo-media.sh" "$out" --titles "$tmp/movies.json" --trailers 2 --features 1 \
	--feature-seconds 3 --trailer-seconds 2 2>&1) || fail "fourth run failed:"$'\n'"$log"
grep -q '4 posters, 2 trailers, 1 features .*(1 made, 6 kept' <<<"$log" || fail "fourth run: $log"
grep -qx $'4\tposter\tposter-004.jpg\t-' "$out/media.tsv" || fail "no poster for the 4th movie"

# Errors say what is wrong and exit non-zero.
expect_error()
{
	local pattern=$1 rc=0 msg
	shift
	msg=$("$@" 2>&1) || rc=$?
	((rc != 0)) || fail "exit 0 for $*"
	grep -q -- "$pattern" <<<"$msg" || fail "for $*: expected \"$pattern\", got: $msg"
}
mkdir "$tmp/bin"
for c in bash dirname; do ln -s "$(command -v "$c")" "$tmp/bin/$c"; done
expect_error "ffmpeg is not installed" env PATH="$tmp/bin" bash "$root/scripts/demo-media.sh" "$tmp/none"
[[ ! -e $tmp/none ]] || fail "it made the directory without ffmpeg"
expect_error "--count must be a whole number" "$root/scripts/demo-media.sh" "$tmp/x" --count 3x
expect_error "unknown option" "$root/scripts/demo-media.sh" "$tmp/x" --colour
expect_error "usage:" "$root/scripts/demo-media.sh"
expect_error "cannot read the titles" "$root/scripts/demo-media.sh" "$tmp/x" --titles "$tmp/nothing.json"
echo '{"not": "movies"' >"$tmp/bad.json"
expect_error "cannot read" "$root/scripts/demo-media.sh" "$tmp/x" --titles "$tmp/bad.json"
echo "test_demo_media: ok"
