#!/usr/bin/env bash
# scripts/mail.sh decodes the sink's quoted-printable emails and lists their
# links whole (a soft line break inside a link, =3D for '=').
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mail"
mail()
{
	cat >"$tmp/mail/$1.eml" <<MAIL
To: $2
Subject: $3
Date: Sat, 05 Dec 2026 07:07:12 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Open this link:

http://127.0.0.1:8000/accounts/activate?token=3DUKEd2JiSbo8qBqVn9lnrZ_pRPoN=
LkXU6y7$4
MAIL
	touch -d "@$5" "$tmp/mail/$1.eml"
}
mail a ada@example.com "Activate" A 1000
mail b bob@example.com "Reset" B 2000

fail() { echo "test_mail_sh: $*" >&2; exit 1; }
out=$(RUN_DATA_DIR=$tmp "$root/scripts/mail.sh")
grep -q "Reset" <<<"$out" || fail "the newest email is not first: $out"
grep -q "Activate" <<<"$out" && fail "one email asked, two shown: $out"
grep -qx "  http://127.0.0.1:8000/accounts/activate?token=UKEd2JiSbo8qBqVn9lnrZ_pRPoNLkXU6y7B" <<<"$out" ||
	fail "the link is not decoded whole: $out"
out=$(RUN_DATA_DIR=$tmp "$root/scripts/mail.sh" ada@example.com)
grep -q "token=UKEd2JiSbo8qBqVn9lnrZ_pRPoNLkXU6y7A" <<<"$out" || fail "no email to ada: $out"
[[ $(RUN_DATA_DIR=$tmp "$root/scripts/mail.sh" 5 | grep -c '^== ') == 2 ]] || fail "not every email shown"
if RUN_DATA_DIR=$tmp "$root/scripts/mail.sh" nobody@example.com 2>/dev/null; then fail "no email to nobody, yet exit 0"; fi
if RUN_DATA_DIR=$tmp/none "$root/scripts/mail.sh" 2>/dev/null; then fail "no mail folder, yet exit 0"; fi
echo "test_mail_sh: ok"
