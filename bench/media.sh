#!/usr/bin/env bash
# Media bytes never pass through cinema-api: a player watches a whole demo
# feature and we count what cinema-api moved meanwhile, against the size of
# the film (docs/benchmarks.md, "Media: no video bytes through cinema-api").
#
# A throwaway stack (PostgreSQL, Redis, the local S3 server, cinema-api);
# `cinema-api seed`, then scripts/demo-media.sh makes one feature
# (BENCH_FEATURE_SECONDS long, WebM VP9 640x360) and `cinema-api seed --media`
# puts it in S3 and links it to the first movie. A moderator (moderators may
# play any film; a buyer gets the same answer) signs in; then the player, over
# one keep-alive connection to the API and one to S3, as a browser's would:
#   GET  /api/v1/movies/{id}/play            the presigned URL of the feature
#   GET  <that URL> with Range: bytes=a-b    BENCH_RANGE_MIB at a time, to the
#                                            end, each a 206 (checked)
#   PUT  /api/v1/movies/{id}/progress        after every 15 s of film, and at
#                                            the end (as the web player does)
# and checks that the bytes it got are the file's (SHA-256).
#
# Measured over that whole playback (from just before /play to after the
# last byte), three ways:
#   - the player's TCP connection to cinema-api: payload bytes sent and
#     received (the kernel's TCP_INFO tcpi_bytes_acked / tcpi_bytes_received,
#     what `ss -tin` shows as bytes_acked / bytes_received);
#   - every TCP socket cinema-api holds (`ss -tinp`, its pid): that
#     connection, its PostgreSQL and Redis connections, and any socket opened
#     or closed meanwhile, which is listed;
#   - cinema-api -> S3: cinema-api reaches S3 (S3_ENDPOINT) through a counting
#     TCP relay, while the URLs it signs name S3 itself (S3_PUBLIC_ENDPOINT),
#     so any request it made to S3 would be counted there;
# and, for scale, the player's connection to S3 (TCP_INFO). (/proc/PID/io
# rchar and wchar do not count send() and recv() on sockets: not used.)
#
# Usage: bench/media.sh
# Environment (all optional):
#   BENCH_FEATURE_SECONDS  length of the generated feature (default 120)
#   BENCH_RANGE_MIB        size of one range request in MiB (default 1)
#   BENCH_BUILD_DIR, BENCH_API_BIN   as in bench/catalog.sh
#
# Only loopback; everything started is stopped and removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
cd "$root"
# shellcheck source=scripts/lib/services.sh
source "$root/scripts/lib/services.sh"
# shellcheck source=scripts/lib/node.sh
source "$root/scripts/lib/node.sh" # the local S3 server runs on Node >= 20.19

feature_s=${BENCH_FEATURE_SECONDS:-120}
range_mib=${BENCH_RANGE_MIB:-1}
build_dir=${BENCH_BUILD_DIR:-$root/build-bench}

die() { echo "media-bench: $*" >&2; exit 1; }

for tool in curl cmake python3 ffmpeg ss; do
	command -v "$tool" >/dev/null || die "$tool not found (see packages.txt)"
done
[[ $feature_s =~ ^[1-9][0-9]*$ && $range_mib =~ ^[1-9][0-9]*$ ]] ||
	die "BENCH_FEATURE_SECONDS and BENCH_RANGE_MIB are whole numbers from 1"
build_api
[[ $("$api_bin" seed --help 2>&1) == *--media* ]] || die "$api_bin has no seed --media"

bench_temp media-bench
# bench_cleanup stops pids and the PostgreSQL and Redis in $tmp/svc; S3 here.
trap 'svc_s3_stop "$tmp/s3"; bench_cleanup' EXIT

echo "== starting PostgreSQL, Redis and S3 in $tmp" >&2
svc_start "$tmp/svc" throwaway >/dev/null 2>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "services did not start"; }
node_check
node_npm_ci "$root" >/dev/null # the local S3 server (s3rver)
svc_s3_start "$tmp/s3" 2>>"$tmp/svc.log" || { cat "$tmp/svc.log" >&2; die "S3 did not start"; }

api_env=(APP_ENV=development HTTP_HOST=127.0.0.1 SHUTDOWN_GRACE=1 LOG_LEVEL=warn
	DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" AUTH_RATE_LIMIT=100000 CINEMA_ENV_FILE=
	S3_ENDPOINT="$S3_ENDPOINT" S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_SECRET_KEY="$S3_SECRET_KEY"
	S3_BUCKET="$S3_BUCKET" S3_REGION="$S3_REGION")
setup() { env "${api_env[@]}" "$@" >>"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log" >&2; die "$* failed"; }; }
echo "== seeding the catalog and one ${feature_s}-second demo feature" >&2
setup "$api_bin" migrate
setup "$api_bin" seed
setup "$root/scripts/demo-media.sh" "$tmp/media" --count 1 --trailers 0 --features 1 \
	--feature-seconds "$feature_s"
setup "$api_bin" seed --media "$tmp/media"
setup "$api_bin" create-user --email bench@example.com --password 'Bench#2024pw' --group MODERATOR --active
movie=$("$(svc_pg_bin_dir)/psql" -X -At "$DATABASE_URL" -c \
	"SELECT movie_id FROM movie_media WHERE kind = 'feature' ORDER BY movie_id LIMIT 1")
[[ -n $movie ]] || die "no feature linked after seed --media"

# The counting relay in front of S3 for cinema-api: writes "bytes connections"
# to $tmp/relay.count every 50 ms.
relay_port=$(free_port)
s3_port=${S3_ENDPOINT##*:}
python3 - "$relay_port" "$s3_port" "$tmp/relay.count" <<'PY' &
import os, socket, sys, threading, time
port, target, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock, count = threading.Lock(), [0, 0]
def pump(a, b):
    try:
        while data := a.recv(65536):
            with lock:
                count[0] += len(data)
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
def serve(c):
    u = socket.create_connection(("127.0.0.1", target))
    with lock:
        count[1] += 1
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    pump(u, c)
def report():
    while True:
        with lock:
            line = f"{count[0]} {count[1]}\n"
        with open(out + ".tmp", "w") as f:
            f.write(line)
        os.replace(out + ".tmp", out)
        time.sleep(0.05)
threading.Thread(target=report, daemon=True).start()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
pids+=($!)
for _ in $(seq 50); do [[ -s $tmp/relay.count ]] && port_in_use "$relay_port" && break; sleep 0.1; done
port_in_use "$relay_port" || die "the S3 relay did not start"

port=$(free_port)
env "${api_env[@]}" S3_ENDPOINT="http://127.0.0.1:$relay_port" S3_PUBLIC_ENDPOINT="$S3_ENDPOINT" \
	HTTP_PORT="$port" "$api_bin" serve >>"$tmp/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
wait_ready cinema-api "$api_pid" "$port" "$tmp/api.log"

echo "== playing the feature of movie $movie" >&2
python3 - "$port" "$movie" "$api_pid" "$tmp/relay.count" "$tmp/media" "$range_mib" <<'PY'
import hashlib, http.client, json, os, re, socket, struct, subprocess, sys, time, urllib.parse

port, movie, api_pid, relay_file, media, range_mib = sys.argv[1:]
path = f"{media}/feature-001.webm"
chunk = int(range_mib) << 20


def relay():
    """Bytes and connections through the relay cinema-api reaches S3 by."""
    time.sleep(0.15)  # two reports of the relay
    with open(relay_file) as f:
        b, c = f.read().split()
    return int(b), int(c)


def api_sockets():
    """cinema-api's TCP sockets: {(local, peer): (bytes_acked, bytes_received)}."""
    out = subprocess.run(["ss", "-tinpH"], capture_output=True, text=True, check=True).stdout
    socks, key = {}, None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            f = line.split()
            key = (f[3], f[4]) if f"pid={api_pid}," in line else None
        elif key:
            acked = re.search(r"bytes_acked:(\d+)", line)
            recv = re.search(r"bytes_received:(\d+)", line)
            socks[key] = (int(acked.group(1)) if acked else 0, int(recv.group(1)) if recv else 0)
    return socks


def tcp(conn):
    """Payload bytes sent (and acknowledged) and received on conn's socket."""
    info = conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    return struct.unpack_from("QQ", info, 120)  # tcpi_bytes_acked, tcpi_bytes_received


api = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
token = None


def call(method, path, body=None, want=200):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    api.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = api.getresponse()
    data = r.read()
    if r.status != want:
        sys.exit(f"media-bench: {method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None


token = call("POST", "/api/v1/accounts/login",
             {"email": "bench@example.com", "password": "Bench#2024pw"})["access_token"]
api_sock = api.sock
time.sleep(0.2)  # the last ACKs of the sign-in
api_tcp0, socks0, relay0 = tcp(api), api_sockets(), relay()

play = call("GET", f"/api/v1/movies/{movie}/play")
size, duration = play["size_bytes"], play["duration_s"] or 0
u = urllib.parse.urlsplit(play["url"])
s3 = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
target = u.path + ("?" + u.query if u.query else "")
digest, got, requests, next_report, reports = hashlib.sha256(), 0, 0, 15.0, 0
while got < size:
    end = min(got + chunk, size) - 1
    s3.request("GET", target, headers={"Range": f"bytes={got}-{end}"})
    r = s3.getresponse()
    body = r.read()
    requests += 1
    if r.status != 206 or len(body) != end - got + 1:
        sys.exit(f"media-bench: range {got}-{end}: {r.status}, {len(body)} bytes")
    if requests == 1:
        s3_sock = s3.sock
    digest.update(body)
    got += len(body)
    position = duration * got / size if duration else 0
    while duration and position >= next_report:  # every 15 s of film, as the player
        call("PUT", f"/api/v1/movies/{movie}/progress",
             {"position_s": next_report, "duration_s": duration}, want=204)
        next_report += 15.0
        reports += 1
call("PUT", f"/api/v1/movies/{movie}/progress",
     {"position_s": duration, "duration_s": duration}, want=204)
reports += 1
if api.sock is not api_sock or s3.sock is not s3_sock:
    sys.exit("media-bench: a connection was reopened: the TCP counts would be partial")
time.sleep(0.2)  # the last ACKs
api_tcp1, socks1, relay1, s3_tcp = tcp(api), api_sockets(), relay(), tcp(s3)

with open(path, "rb") as f:
    same = hashlib.sha256(f.read()).hexdigest() == digest.hexdigest()
if not same or got != os.path.getsize(path):
    sys.exit("media-bench: the bytes played are not the file's")

sent, received = api_tcp1[0] - api_tcp0[0], api_tcp1[1] - api_tcp0[1]
kept = socks0.keys() & socks1.keys()
all_sent = sum(socks1[k][0] - socks0[k][0] for k in kept)
all_recv = sum(socks1[k][1] - socks0[k][1] for k in kept)
changed = sorted(socks0.keys() ^ socks1.keys())
relay_bytes, relay_conns = relay1[0] - relay0[0], relay1[1] - relay0[1]
print()
print(f"feature: {size:,} bytes ({size / 2**20:.2f} MiB), {duration:g} s, WebM VP9 640x360;"
      f" played with {requests} range requests of {range_mib} MiB (all 206, SHA-256 equal),"
      f" 1 GET /play, {reports} PUT /progress")
print(f"{'':46} {'bytes':>12} {'of the film':>12}")
rows = [
    ("player -> cinema-api (TCP_INFO)", sent),
    ("cinema-api -> player (TCP_INFO)", received),
    (f"cinema-api, its {len(kept)} TCP sockets: sent (ss)", all_sent),
    (f"cinema-api, its {len(kept)} TCP sockets: received (ss)", all_recv),
    (f"cinema-api <-> S3, both ways ({relay_conns} connections)", relay_bytes),
    ("S3 -> player (TCP_INFO)", s3_tcp[1]),
]
for label, n in rows:
    print(f"{label:46} {n:>12,} {100 * n / size:>11.3f}%")
print(f"sockets of cinema-api opened or closed meanwhile: {len(changed)}"
      + "".join(f"\n  {'+' if k in socks1 else '-'} {k[0]} -> {k[1]}" for k in changed))

# The control: the relay does see what cinema-api asks of S3. A poster upload
# (the PUT straight to S3) and its confirmation (the API's HEAD and GET of the
# first 64 bytes, through the relay).
with open(f"{media}/poster-001.jpg", "rb") as f:
    poster = f.read()
relay0 = relay()
up = call("POST", f"/api/v1/movies/{movie}/media/poster/uploads",
          {"content_type": "image/jpeg", "size_bytes": len(poster)}, want=201)
part = up["parts"][0]
u = urllib.parse.urlsplit(part["url"])
c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
c.request("PUT", u.path + "?" + u.query, body=poster, headers=part["headers"])
r = c.getresponse()
r.read()
if r.status != 200:
    sys.exit(f"media-bench: the poster PUT: {r.status}")
call("POST", f"/api/v1/movies/{movie}/media/poster/uploads/{up['id']}/complete", {})
relay1 = relay()
print(f"control: confirming a {len(poster):,}-byte poster upload moved"
      f" {relay1[0] - relay0[0]:,} bytes between cinema-api and S3"
      f" ({relay1[1] - relay0[1]} connections)")
PY
