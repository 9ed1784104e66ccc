#!/usr/bin/env bash
# The web app's weight and first paint, as a phone on a slow network sees it.
#
#   bench/web.sh [BASE_URL]      (default http://127.0.0.1:8000: start scripts/run.sh first)
#
# Method: web/scripts/size.mjs sums the gzipped JavaScript that index.html
# loads before the first render (the budget is 60 KB). Then Lighthouse 12
# (npm, run with npx; Node >= 18.16) drives Debian's Chromium headless with
# its default mobile preset (Moto G Power screen, simulated slow 4G: 150 ms
# RTT, 1.6 Mbit/s down, 4x CPU slowdown) over each page, RUNS times, and
# the median run per page is reported: performance and accessibility
# scores, first contentful paint, largest contentful paint, total blocking
# time and the bytes transferred. The pages: the catalog, a movie page and
# the sign-in page, as an anonymous visitor (cold cache: a new profile per
# run). Everything runs on this machine, so the figures include the server's
# own time; the throttling is simulated from the unthrottled trace.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "bench/web.sh: $*" >&2; exit 1; }

base=${1:-http://127.0.0.1:8000}
runs=${RUNS:-3}
chrome=${CHROME_PATH:-/usr/bin/chromium}
[[ -x $chrome ]] || die "no Chromium at $chrome (apt-get install chromium)"
curl -fsS -o /dev/null "$base/healthz" || die "no server answers at $base (start scripts/run.sh)"
curl -fsS "$base/movies" | grep -q '<div id="app">' || die "$base does not serve the web app (WEB_DIR)"

echo "== initial JavaScript (web/dist)"
node "$root/web/scripts/size.mjs" "$root/web/dist"

movie=$(curl -fsS "$base/api/v1/movies?per_page=1" | sed -nE 's/.*"items":\[\{"id":([0-9]+).*/\1/p')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-web.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf '\n%-16s %5s %5s %8s %8s %7s %8s\n' page perf a11y 'FCP ms' 'LCP ms' 'TBT ms' 'KB'
for page in /movies "/movies/${movie:-1}" /accounts/login; do
	for ((i = 1; i <= runs; i++)); do
		CHROME_PATH=$chrome npx --yes lighthouse@12.8.2 "$base$page" --quiet \
			--chrome-flags="--headless=new --no-sandbox --disable-gpu" \
			--only-categories=performance,accessibility \
			--output=json --output-path="$tmp/run-$i.json" >/dev/null 2>"$tmp/lh.log" ||
			{ cat "$tmp/lh.log" >&2; die "lighthouse failed on $page"; }
	done
	node - "$page" "$tmp"/run-*.json <<'JS'
const fs = require('node:fs');
const [page, ...files] = process.argv.slice(2);
const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const fcp = (r) => r.audits['first-contentful-paint'].numericValue;
runs.sort((a, b) => fcp(a) - fcp(b));
const r = runs[Math.floor(runs.length / 2)];
const a = (k) => Math.round(r.audits[k].numericValue);
console.log(
  page.padEnd(16),
  String(Math.round(r.categories.performance.score * 100)).padStart(5),
  String(Math.round(r.categories.accessibility.score * 100)).padStart(5),
  String(a('first-contentful-paint')).padStart(8),
  String(a('largest-contentful-paint')).padStart(8),
  String(a('total-blocking-time')).padStart(7),
  String(Math.round(a('total-byte-weight') / 1024)).padStart(8),
);
JS
	rm -f "$tmp"/run-*.json
done
echo
echo "(median of $runs Lighthouse runs per page, mobile preset; $(chromium --version 2>/dev/null | head -1))"
