#!/usr/bin/env bash
# Generates demo media for the demo catalog with ffmpeg alone (test sources,
# generated images; nothing is downloaded), and the manifest that
# `cinema-api seed --media DIR` reads (docs/MEDIA.md, "Demo media"):
#
#   scripts/demo-media.sh DIR [--count N] [--trailers N] [--features N]
#                             [--feature-seconds S] [--trailer-seconds S] [--titles FILE]
#
#   DIR/poster-NNN.jpg    a poster for each of the first --count movies (JPEG
#                         400x600, a gradient of its own and the title); default:
#                         every movie of the data file (268: about 20 s)
#   DIR/trailer-NNN.webm  a trailer for the first --trailers movies (default 8):
#                         WebM, VP9 480x270 + Opus, --trailer-seconds (default 15)
#   DIR/feature-NNN.webm  the feature of the first --features movies (default 4):
#                         WebM, VP9 640x360 + Opus, --feature-seconds long
#                         (default 90), a running clock in the picture so that
#                         seeking shows
#   DIR/media.tsv         INDEX<TAB>KIND<TAB>FILE<TAB>DURATION_S per file, INDEX
#                         the movie's 1-based rank in the data file, which is
#                         its rank by id among the seeded movies (`cinema-api
#                         seed` inserts them in the file's order); "#" lines are
#                         comments: "#title<TAB>INDEX<TAB>TITLE (YEAR)" names them
#
# The titles come from the seed's data file: --titles FILE, else SEED_FILE (as
# `cinema-api seed` reads it), else data/movies.json. Files already in DIR are
# kept (a file is written under a temporary name and renamed when whole), so a
# second run only rewrites the manifest. The media are deterministic: the same
# index always gets the same picture. DEMO_MEDIA_JOBS: how many ffmpeg run at
# a time (default: the number of CPUs, at most 4).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
me=demo-media
die() { printf '%s: %s\n' "$me" "$*" >&2; exit 1; }
usage()
{
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

dir='' count=-1 trailers=8 features=4 feature_s=90 trailer_s=15 titles_file=''
whole() { [[ $2 =~ ^[0-9]+$ ]] && (($2 <= $3)) || die "$1 must be a whole number from 0 to $3, not \"$2\""; }
while (($#)); do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--count | --trailers | --features | --feature-seconds | --trailer-seconds | --titles)
		(($# >= 2)) || die "$1 needs a value (try --help)"
		case $1 in
		--count) whole "$1" "$2" 100000 && count=$2 ;;
		--trailers) whole "$1" "$2" 1000 && trailers=$2 ;;
		--features) whole "$1" "$2" 1000 && features=$2 ;;
		--feature-seconds) whole "$1" "$2" 3600 && feature_s=$2 ;;
		--trailer-seconds) whole "$1" "$2" 600 && trailer_s=$2 ;;
		--titles) titles_file=$2 ;;
		esac
		shift 2
		;;
	-*) die "unknown option \"$1\" (try --help)" ;;
	*)
		[[ -z $dir ]] || die "one directory only (try --help)"
		dir=$1
		shift
		;;
	esac
done
[[ -n $dir ]] || die "usage: scripts/demo-media.sh DIR [--count N] [--trailers N] [--features N] (try --help)"
((feature_s >= 1 && trailer_s >= 1)) || die "a video lasts at least 1 second"
titles_file=${titles_file:-${SEED_FILE:-$root/data/movies.json}}
[[ -r $titles_file ]] || die "cannot read the titles' data file $titles_file"

# What we need, said plainly when it is missing.
install_hint="install it with scripts/install-deps.sh (or: apt-get install ffmpeg fonts-dejavu-core)"
command -v ffmpeg >/dev/null || die "ffmpeg is not installed: $install_hint"
command -v python3 >/dev/null || die "python3 is not installed (it reads the titles): scripts/install-deps.sh"
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
mono=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
[[ -r $font && -r $mono ]] || die "the DejaVu fonts are missing ($font): $install_hint"
ffmpeg_filters=$(ffmpeg -hide_banner -filters 2>/dev/null) || die "ffmpeg does not run: $install_hint"
ffmpeg_encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null) || die "ffmpeg does not run: $install_hint"
ffmpeg_has()
{
	local what=$1 name=$2 list
	[[ $what == filters ]] && list=$ffmpeg_filters || list=$ffmpeg_encoders
	grep -qE "^ [A-Z.]+ +$name " <<<"$list" ||
		die "this ffmpeg has no $name ${what%s} (Debian's ffmpeg package has it)"
}
ffmpeg_has filters drawtext
ffmpeg_has filters gradients
ffmpeg_has filters testsrc2
ffmpeg_has encoders libvpx-vp9
ffmpeg_has encoders libopus
ffmpeg_has encoders mjpeg

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/demo-media.XXXXXX")
cleanup()
{
	local pid
	for pid in "${running[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
	rm -f "$dir"/.*.part
}
running=()
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The titles, wrapped for drawtext (which does not wrap): work/N.poster.txt
# (narrow, for the poster) and work/N.video.txt; and work/titles.tsv
# (INDEX<TAB>TITLE (YEAR)). Prints how many movies the file has.
total=$(
	python3 - "$titles_file" "$work" "$count" <<'PY'
import json, sys, textwrap
path, work, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    with open(path, encoding="utf-8") as f:
        movies = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(f"demo-media: cannot read {path}: {e}")
if isinstance(movies, dict):
    movies = movies.get("movies", [])
if not isinstance(movies, list) or not all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in movies):
    sys.exit(f"demo-media: {path} is not a list of movies with a name")
with open(f"{work}/titles.tsv", "w", encoding="utf-8") as out:
    for i, m in enumerate(movies if count < 0 else movies[:count], 1):
        name = " ".join(m["name"].split())
        year = m.get("year")
        label = f"{name} ({year})" if isinstance(year, int) else name
        out.write(f"{i}\t{label}\n")
        for kind, width in (("poster", 17), ("video", 26)):
            lines = textwrap.wrap(name, width) or ["?"]
            if len(lines) > 4:
                lines = lines[:3] + [lines[3] + "\u2026"]
            with open(f"{work}/{i}.{kind}.txt", "w", encoding="utf-8") as t:
                t.write("\n".join(lines))
        with open(f"{work}/{i}.year.txt", "w", encoding="utf-8") as t:
            t.write(str(year) if isinstance(year, int) else "")
print(len(movies))
PY
) || exit 1
((count >= 0 && count <= total)) || count=$total
((trailers <= count)) || trailers=$count
((features <= count)) || features=$count

made=0 kept=0
jobs=${DEMO_MEDIA_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "DEMO_MEDIA_JOBS must be a whole number from 1, not \"$jobs\""
((jobs <= 4)) || jobs=4
# Waits for one of the ffmpeg jobs; stops at the first that failed.
reap()
{
	local rc=0 done_pid pid left=()
	wait -n -p done_pid "${running[@]}" || rc=$?
	for pid in "${running[@]}"; do [[ $pid == "$done_pid" ]] || left+=("$pid"); done
	running=("${left[@]}")
	((rc == 0)) || die "ffmpeg failed (its messages are above)"
}
# gen FILE ARGS...: ffmpeg ARGS... writes DIR/FILE under a temporary name,
# renamed when whole; a file already there is kept. Up to $jobs at a time
# (DEMO_MEDIA_JOBS, default the number of CPUs, at most 4).
gen()
{
	local file=$1 part
	shift
	if [[ -s $dir/$file ]]; then
		kept=$((kept + 1))
		return 0
	fi
	while ((${#running[@]} >= jobs)); do reap; done
	part=$dir/.$file.part
	(
		ffmpeg -hide_banner -nostdin -loglevel error -y "$@" "$part" 2>"$work/$file.log" &
		trap 'kill -TERM $! 2>/dev/null; exit 143' TERM # cleanup() stops the ffmpeg too
		if ! wait $!; then
			printf '%s: ffmpeg failed to make %s:\n' "$me" "$file" >&2
			cat "$work/$file.log" >&2
			exit 1
		fi
		mv -f "$part" "$dir/$file"
	) &
	running+=($!)
	made=$((made + 1))
}

# drawtext arguments for the title of movie i (file f); text from a file, so
# that no character of a title needs escaping.
title_text() { printf 'fontfile=%s:textfile=%s:expansion=none' "$font" "$1"; }

# Three colours of a palette for movie i (gradients' own "random" colours
# would differ from run to run): c0 and c2 four apart, c1 never either.
palette=(1b2a49 c0392b e67e22 f1c40f 16a085 27ae60 2980b9 8e44ad 2c3e50 d35400 7f8c8d 6d214f)
colors()
{
	local i=$1
	printf 'c0=0x%s:c1=0x%s:c2=0x%s' "${palette[5 * i % 12]}" "${palette[(7 * i + 3) % 12]}" \
		"${palette[(5 * i + 4) % 12]}"
}

start=$SECONDS
for ((i = 1; i <= count; i++)); do
	n=$(printf '%03d' "$i")
	# A gradient of its own (the seed picks the colours and the angle, the
	# index the shape), a dark band with the title, the year and "DEMO".
	gen "poster-$n.jpg" -f lavfi -i "gradients=s=400x600:n=3:$(colors "$i"):seed=$((i * 7919)):type=$((i % 2)):d=1" \
		-frames:v 1 -vf "drawbox=x=0:y=340:w=iw:h=260:color=black@0.6:t=fill,
drawbox=x=16:y=16:w=iw-32:h=ih-32:color=white@0.5:t=2,
drawtext=$(title_text "$work/$i.poster.txt"):fontsize=30:fontcolor=white:line_spacing=6:x=32:y=362,
drawtext=fontfile=$font:textfile=$work/$i.year.txt:expansion=none:fontsize=20:fontcolor=white@0.85:x=32:y=h-54,
drawtext=fontfile=$font:text=DEMO:fontsize=16:fontcolor=white@0.7:x=w-tw-32:y=h-50" \
		-c:v mjpeg -q:v 4 -pix_fmt yuvj420p -f image2 -update 1
done

# VP9 in real time (fast on two cores) with a keyframe every 2 s, Opus 48 kb/s.
vp9=(-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 -g 48 -pix_fmt yuv420p
	-c:a libopus -b:a 48k -ac 2 -f webm)
for ((i = 1; i <= trailers; i++)); do
	n=$(printf '%03d' "$i")
	gen "trailer-$n.webm" \
		-f lavfi -i "gradients=s=480x270:r=24:n=3:speed=0.02:$(colors $((i + 5))):seed=$((i * 104729)):type=$((i % 2)):d=$trailer_s" \
		-f lavfi -i "sine=f=$((220 + 55 * (i % 8))):beep_factor=2:sample_rate=48000:d=$trailer_s" \
		-vf "drawtext=$(title_text "$work/$i.video.txt"):fontsize=26:fontcolor=white:line_spacing=6:shadowcolor=black:shadowx=2:shadowy=2:x=(w-tw)/2:y=(h-th)/2,
drawtext=fontfile=$font:text=TRAILER:fontsize=16:fontcolor=yellow:box=1:boxcolor=black@0.6:boxborderw=6:x=16:y=h-34,
drawtext=fontfile=$mono:text='%{pts\:hms}':fontsize=16:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6:x=w-tw-16:y=h-34" \
		-b:v 300k "${vp9[@]}"
done
for ((i = 1; i <= features; i++)); do
	n=$(printf '%03d' "$i")
	# testsrc2 (moving shapes, its own small clock top left) in a hue of its
	# own, the title top right, a large running clock at the bottom, a beep
	# every second.
	gen "feature-$n.webm" \
		-f lavfi -i "testsrc2=s=640x360:r=24:d=$feature_s" \
		-f lavfi -i "sine=f=$((330 + 110 * (i % 4))):beep_factor=4:sample_rate=48000:d=$feature_s" \
		-vf "hue=h=$((i * 67 % 360)),
drawtext=$(title_text "$work/$i.video.txt"):fontsize=22:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=w-tw-16:y=16,
drawtext=fontfile=$font:text=DEMO FEATURE:fontsize=14:fontcolor=yellow:box=1:boxcolor=black@0.6:boxborderw=4:x=8:y=52,
drawtext=fontfile=$mono:text='%{pts\:hms}':fontsize=48:fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=10:x=(w-tw)/2:y=h-th-30" \
		-b:v 500k "${vp9[@]}"
done

while ((${#running[@]})); do reap; done

# The manifest, whole then renamed.
{
	printf '# written by scripts/demo-media.sh: INDEX<TAB>KIND<TAB>FILE<TAB>DURATION_S\n'
	printf '# INDEX: the rank of the movie by id among the seeded movies (%s)\n' "$(basename "$titles_file")"
	while IFS=$'\t' read -r i label; do
		printf '#title\t%s\t%s\n' "$i" "$label"
	done <"$work/titles.tsv"
	for ((i = 1; i <= count; i++)); do
		n=$(printf '%03d' "$i")
		printf '%d\tposter\tposter-%s.jpg\t-\n' "$i" "$n"
		((i > trailers)) || printf '%d\ttrailer\ttrailer-%s.webm\t%d\n' "$i" "$n" "$trailer_s"
		((i > features)) || printf '%d\tfeature\tfeature-%s.webm\t%d\n' "$i" "$n" "$feature_s"
	done
} >"$dir/.media.tsv.part"
mv -f "$dir/.media.tsv.part" "$dir/media.tsv"
printf '%s: %d posters, %d trailers, %d features in %s (%d made, %d kept, %d s)\n' \
	"$me" "$count" "$trailers" "$features" "$dir" "$made" "$kept" $((SECONDS - start))
