#!/usr/bin/env bash
# Shows the newest emails caught by scripts/run.sh's mail sink, decoded, with
# their links (to open in a browser: activation, password reset, orders...).
#   scripts/mail.sh                 the newest email
#   scripts/mail.sh 3               the three newest
#   scripts/mail.sh me@example.com  the newest email to that address
# Reads .data/mail (RUN_DATA_DIR/mail when set).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${RUN_DATA_DIR:-$root/.data}/mail
[[ -d $dir ]] || { echo "mail.sh: no $dir: start scripts/run.sh first (it keeps every email there)" >&2; exit 1; }
exec python3 - "$dir" "${1:-1}" <<'PY'
import email, email.policy, os, re, sys

folder, arg = sys.argv[1], sys.argv[2]
files = sorted((f for f in os.listdir(folder) if f.endswith(".eml")),
               key=lambda f: os.path.getmtime(os.path.join(folder, f)), reverse=True)
count, to = (int(arg), None) if arg.isdigit() else (1, arg.lower())
shown = 0
for name in files:
    with open(os.path.join(folder, name), "rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    if to and to not in str(msg["To"]).lower():
        continue
    part = msg.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part else ""
    print(f"== {msg['Date']}  to {msg['To']}\n   {msg['Subject']}   ({os.path.join(folder, name)})\n")
    print(text.strip() + "\n")
    links = list(dict.fromkeys(re.findall(r"https?://[^\s<>\"]+", text)))
    if links:
        print("links:\n" + "\n".join("  " + l for l in links) + "\n")
    shown += 1
    if shown >= count:
        break
if not shown:
    print("mail.sh: no email" + (f" to {to}" if to else "") + f" in {folder} yet", file=sys.stderr)
    sys.exit(1)
PY
