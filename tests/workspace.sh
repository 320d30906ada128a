#!/bin/sh
# End-to-end test of the workspace commands: init, train, forget (ids on the
# command line, from a file, from stdin), capacity, status, predict,
# evaluate, refresh, export, verify, keygen, and M3's publish; the exit code and message of
# every kind of bad input, and that a refused command changes no byte of the
# workspace; encryption at rest; the certificates' content.
#
#   LETHE=build/lethe sh tests/workspace.sh
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
LETHE=${LETHE:-build/lethe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# A fingerprint of every file in a workspace (names and bytes).
print_ws() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
unchanged() { print_ws "$2" | cmp -s - "$tmp/before" && ok || bad "$1: the workspace changed"; }

make_csv "$tmp/data.csv" 4242 260 7000 0.5 2 0 -1 0.7
data="--data $tmp/data.csv --id-col 0"
ws="$tmp/ws"

# ── init ────────────────────────────────────────────────────────────────────
for cmd in init status evaluate export publish; do
    run 0 "$cmd --help" "$LETHE" "$cmd" --help
    has "$cmd --help" "$tmp/out" "^usage: lethe $cmd"
done
run 1 "init without a directory" "$LETHE" init
run 0 "init" "$LETHE" init "$ws"
has "init" "$tmp/out" "encrypted at rest +no"
test "$(stat -c %a "$ws")" = 700 && ok || bad "the workspace is not private (mode 700)"
test "$(stat -c %a "$ws/owner.key")" = 600 && ok || bad "the signing key is not private"
run 1 "init over an existing directory" "$LETHE" init "$ws"
has "init again" "$tmp/err" "exists already"
run 0 "status of an empty workspace" "$LETHE" status --workspace "$ws"
has "status empty" "$tmp/out" "mechanism +none"
run 1 "capacity of an empty workspace" "$LETHE" capacity --workspace "$ws"
has "capacity empty" "$tmp/err" "holds no model yet"
run 2 "not a workspace" "$LETHE" status --workspace "$tmp"
has "not a workspace" "$tmp/err" "not a lethe workspace"
run 1 "--model and --workspace" "$LETHE" status --workspace "$ws" --model "$tmp/x"

# ── train: bad input changes nothing ────────────────────────────────────────
print_ws "$ws" >"$tmp/before"
run 1 "epsilon 0" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5 --epsilon 0
run 1 "delta 1" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5 --delta 1
run 1 "lambda -1" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5 --lambda -1
printf 'id,x1,y\n1,nan,1\n' >"$tmp/nan.csv"
run 2 "NaN in the data" "$LETHE" train --mechanism guo --workspace "$ws" --data "$tmp/nan.csv" --id-col 0 --budget 0.5
printf 'id,x1,y\n' >"$tmp/empty.csv"
run 2 "empty data" "$LETHE" train --mechanism guo --workspace "$ws" --data "$tmp/empty.csv" --id-col 0 --budget 0.5
printf 'id,x1,y\n1,0.5\n' >"$tmp/short.csv"
run 2 "malformed row" "$LETHE" train --mechanism guo --workspace "$ws" --data "$tmp/short.csv" --id-col 0 --budget 0.5
run 1 "--public with a workspace" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5 --public "$tmp/p"
# one record: no removal could ever leave one, and a model of it once made a
# workspace no command could open; refused before anything is written
printf 'id,x1,x2,y\n5,0.25,-0.5,1\n' >"$tmp/one.csv"
for mech in m3 guo; do
    budget=""
    [ "$mech" = guo ] && budget="--budget 0.5"
    run 2 "one record ($mech)" "$LETHE" train --mechanism $mech --workspace "$ws" --data "$tmp/one.csv" --id-col 0 $budget
    has "one record ($mech)" "$tmp/err" "one record is not enough"
done
unchanged "refused trainings" "$ws"

run 0 "train" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5
has "train" "$tmp/out" "workspace +$ws"
run 1 "train twice" "$LETHE" train --mechanism guo --workspace "$ws" $data --budget 0.5
has "train twice" "$tmp/err" "already holds a trained model"
run 0 "status" "$LETHE" status --workspace "$ws" --json
has "status" "$tmp/out" '"mechanism": "guo \(Guo et al\. 2020 .*not a proven guarantee'
has "status" "$tmp/out" '"n": 260'
has "status" "$tmp/out" '"certificates": 0'
run 0 "verify before any removal" "$LETHE" verify --workspace "$ws"

# ── forget: three ways to give ids ──────────────────────────────────────────
run 0 "forget ids" "$LETHE" forget --workspace "$ws" 7003 7011
has "forget ids" "$tmp/out" "certified +yes"
printf '7020\n\n 7021 \n' >"$tmp/ids.txt"
run 0 "forget --ids-file" "$LETHE" forget --workspace "$ws" --ids-file "$tmp/ids.txt"
printf '7030\n' | "$LETHE" forget --workspace "$ws" - >"$tmp/out" 2>"$tmp/err" && ok ||
    bad "forget from stdin"
run 0 "status after" "$LETHE" status --workspace "$ws" --json
has "status after" "$tmp/out" '"n": 255'
has "status after" "$tmp/out" '"certificates": 3'
run 0 "verify" "$LETHE" verify --workspace "$ws" --json
has "verify" "$tmp/out" '"verified": true'
has "verify" "$tmp/out" '"certificates": 3'
has "verify" "$tmp/out" '"model_checked": true'
has "verify" "$tmp/out" '"mechanism": "guo \(Guo et al\. 2020 .*their idealised statement.*", "idealised": true'
# and for people: guo's label, never a bare "verified"
run 0 "verify guo" "$LETHE" verify --workspace "$ws"
has "verify guo" "$tmp/out" "^mechanism +guo \(Guo et al\. 2020 loss perturbation: their idealised statement, not a proven guarantee"
has "verify guo" "$tmp/out" "^idealised statement +yes$"
has "verify guo" "$tmp/out" "^ +\(guo: Guo et al\.'s idealised statement, not a proven guarantee; the$"

# bad ids: specific exit code and message, and not a byte changes
print_ws "$ws" >"$tmp/before"
run 3 "unknown id" "$LETHE" forget --workspace "$ws" 99999
has "unknown id" "$tmp/err" "99999"
run 3 "already removed" "$LETHE" forget --workspace "$ws" 7003
has "already removed" "$tmp/err" "already removed"
run 3 "duplicate id" "$LETHE" forget --workspace "$ws" 7040 7040
has "duplicate id" "$tmp/err" "twice|duplicate"
run 1 "not an id" "$LETHE" forget --workspace "$ws" 12x
run 1 "no id" "$LETHE" forget --workspace "$ws"
printf '7041\nseven\n' >"$tmp/badids.txt"
run 2 "bad ids file" "$LETHE" forget --workspace "$ws" --ids-file "$tmp/badids.txt"
has "bad ids file" "$tmp/err" "line 2"
run 0 "dry run" "$LETHE" forget --workspace "$ws" --dry-run 7042
unchanged "refused or dry-run removals" "$ws"

# the certificates: keyed id hashes, never the ids themselves
cert="$ws/ledger/00000001.json"
has "certificate" "$cert" '"format": "lethe-certificate-3"'
has "certificate" "$cert" '"mechanism": "M1"'
# guo's numbers are marked as what they are: the owner's, under an idealised statement
statement="guo: Guo et al\.'s idealised statement, not a proven guarantee; residual, budget"
statement="$statement and remaining depend on the owner's secret noise b and are the owner's figures"
has "certificate" "$cert" "^  \"statement\": \"$statement\",$"
has "certificate" "$cert" '"sampler": "lattice-gaussian-int64'
has "certificate" "$cert" '"k": 2'
# (as a number of its own: a hex hash may hold the digits "7003" by chance)
in_clear() { grep -Eq '(^|[^0-9a-f])(7003|7011)([^0-9a-f]|$)' "$1"; }
in_clear "$cert" && bad "a certificate names a removed id in clear" || ok
has "certificate" "$cert" '"seeded": false'
# tampering is caught, with its own exit status (6)
cp -a "$ws" "$tmp/tampered"
sed -i 's/"k": 2/"k": 3/' "$tmp/tampered/ledger/00000001.json"
run 6 "verify a tampered ledger" "$LETHE" verify --workspace "$tmp/tampered"
has "tampered" "$tmp/err" "00000001"
rm -rf "$tmp/tampered"

# ── predict, evaluate, capacity, export ─────────────────────────────────────
run 0 "predict" "$LETHE" predict --workspace "$ws" $data
test "$(wc -l <"$tmp/out")" -eq 260 && ok || bad "predict: not one line per record"
run 0 "evaluate" "$LETHE" evaluate --workspace "$ws" $data --json
has "evaluate" "$tmp/out" '"accuracy": 0\.[6-9]'
printf 'id,x1,x2,y\n1,0.1,0.2,1\n' >"$tmp/narrow.csv"
run 2 "evaluate, wrong dimension" "$LETHE" evaluate --workspace "$ws" --data "$tmp/narrow.csv" --id-col 0
run 0 "capacity" "$LETHE" capacity --workspace "$ws" --json
has "capacity" "$tmp/out" '"removals_total": 5'
run 0 "export" "$LETHE" export --workspace "$ws" --out "$tmp/model.public"
has "export" "$tmp/out" "BLAKE2b-256 +[0-9a-f]{64}"
run 0 "verify the exported model" "$LETHE" verify --ledger "$ws/ledger" --key "$ws/owner.pub" --model "$tmp/model.public"
run 1 "export without --out" "$LETHE" export --workspace "$ws"

# ── refresh: recorded in the ledger, the chain goes on ──────────────────────
run 0 "refresh" "$LETHE" refresh --workspace "$ws"
run 0 "forget after refresh" "$LETHE" forget --workspace "$ws" 7050
run 0 "verify after refresh" "$LETHE" verify --workspace "$ws" --json
has "verify after refresh" "$tmp/out" '"certificates": 5'
has "refresh record" "$ws/ledger/00000004.json" '"k": 0'
# the state file holds no byte of a removed record: the removed rows' text
# values are gone from every file (the state is binary; check by reloading)
run 0 "status after refresh" "$LETHE" status --workspace "$ws" --json
has "status after refresh" "$tmp/out" '"n": 254'

# ── keygen and another owner's key ──────────────────────────────────────────
run 0 "keygen" "$LETHE" keygen --secret "$tmp/other.key" --public "$tmp/other.pub"
run 6 "verify against another key" "$LETHE" verify --workspace "$ws" --key "$tmp/other.pub"
has "another key" "$tmp/err" "signer"

# ── encrypted at rest ───────────────────────────────────────────────────────
enc="$tmp/enc"
run 0 "init encrypted" "$LETHE" init "$enc" --key-file "$tmp/rest.key"
has "init encrypted" "$tmp/out" "encrypted at rest +yes"
test "$(stat -c %a "$tmp/rest.key")" = 600 && ok || bad "the key file is not private"
run 0 "train encrypted" "$LETHE" train --mechanism guo --workspace "$enc" --key-file "$tmp/rest.key" $data --budget 0.5
head -c 8 "$enc"/state.* | grep -q LETHEENC && ok || bad "the state is not encrypted"
run 2 "encrypted, no key" "$LETHE" forget --workspace "$enc" 7001
has "no key" "$tmp/err" "give the key file"
"$LETHE" keygen --secret "$tmp/k2.sec" --public "$tmp/k2.pub" >/dev/null
"$LETHE" init "$tmp/enc2" --key-file "$tmp/rest2.key" >/dev/null
run 2 "encrypted, wrong key" "$LETHE" status --workspace "$enc" --key-file "$tmp/rest2.key"
has "wrong key" "$tmp/err" "another key"
run 2 "a key for a plain workspace" "$LETHE" status --workspace "$ws" --key-file "$tmp/rest.key"
run 0 "forget encrypted" "$LETHE" forget --workspace "$enc" --key-file "$tmp/rest.key" 7001
run 0 "verify encrypted (no key needed)" "$LETHE" verify --workspace "$enc"

# ── one process at a time; recovery touches only its own files ──────────────
# another process holds the lock for 3 s; it says so (a file) once it has it
flock "$ws/LOCK" sh -c ': >"$0"; sleep 3' "$tmp/held" &
holder=$!
i=0
while [ ! -e "$tmp/held" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
run 2 "workspace in use" "$LETHE" status --workspace "$ws"
has "in use" "$tmp/err" "in use by another lethe process"
wait "$holder"
echo "notes" >"$ws/my-notes.txt"
echo "{}" >"$ws/ledger/copy-for-auditor.json"
mkdir "$ws/ledger/archive"
run 0 "status with the owner's own files" "$LETHE" status --workspace "$ws"
test -f "$ws/my-notes.txt" && test -f "$ws/ledger/copy-for-auditor.json" && test -d "$ws/ledger/archive" &&
    ok || bad "recovery removed files it did not write"
rm -rf "$ws/my-notes.txt" "$ws/ledger/copy-for-auditor.json" "$ws/ledger/archive"
# a HEAD rolled back (an old backup restored over a newer ledger) is refused, not "repaired"
cp -a "$ws" "$tmp/rolled"
cp "$ws/HEAD" "$tmp/head.now"
"$LETHE" forget --workspace "$ws" 7060 >/dev/null 2>&1
"$LETHE" forget --workspace "$ws" 7061 >/dev/null 2>&1
cp "$ws/ledger/"*.json "$tmp/rolled/ledger/"
print_ws "$tmp/rolled" >"$tmp/before"
run 2 "HEAD behind the ledger" "$LETHE" verify --workspace "$tmp/rolled"
has "rolled back" "$tmp/err" "restored from an older copy"
unchanged "a rolled-back workspace" "$tmp/rolled"
# init that fails leaves nothing behind
run 5 "init with an unwritable key path" "$LETHE" init "$tmp/half" --key-file "$tmp/no/such/dir/k"
test ! -e "$tmp/half" && ok || bad "a failed init left $tmp/half"
ls "$tmp" | grep -q 'half.init-' && bad "a failed init left its temporary directory" || ok

# ── M2 in a workspace ───────────────────────────────────────────────────────
m2="$tmp/m2"
"$LETHE" init "$m2" >/dev/null
run 0 "train m2" "$LETHE" train --workspace "$m2" --mechanism m2 $data --norm normalize --capacity 4
run 1 "forget m2 without data" "$LETHE" forget --workspace "$m2" 7002
run 0 "forget m2" "$LETHE" forget --workspace "$m2" $data --norm normalize 7002 7004
run 0 "status m2" "$LETHE" status --workspace "$m2" --json
has "status m2" "$tmp/out" '"used": 2'
run 0 "verify m2" "$LETHE" verify --workspace "$m2"
has "verify m2" "$tmp/out" "^mechanism +M2 \(data-free, Sekhari et al\. 2021\)$"
has "verify m2" "$tmp/out" "^idealised statement +no$"
# M2's certificate carries the public parameters its sensitivity is rebuilt from
for member in '"n": 260,' '"lambda": 1,' '"R": 1,' '"tol": 9.9999999999999998e-13,' '"capacity": 4,'; do
    has "m2 certificate" "$m2/ledger/00000001.json" "^  $member$"
done
print_ws "$m2" >"$tmp/before"
run 4 "m2 over capacity" "$LETHE" forget --workspace "$m2" $data --norm normalize 7005 7006 7007
unchanged "refused M2 removal" "$m2"
run 1 "refresh m2" "$LETHE" refresh --workspace "$m2"


# ── M3 in a workspace (the default mechanism) ───────────────────────────────
w3="$tmp/w3"
"$LETHE" init "$w3" >/dev/null
# certs DIR: the number of certificates in DIR's ledger
certs() { ls "$1/ledger" | grep -c '^[0-9]\{8\}\.json$'; }
run 0 "train m3" "$LETHE" train --workspace "$w3" $data
has "train m3" "$tmp/out" "^mechanism +M3 \(noise-free secret state"
run 0 "status m3" "$LETHE" status --workspace "$w3" --json
has "status m3" "$tmp/out" '"certificates": 0, .*"mechanism": "M3 .*"releases": 1, .*"fresh": true'
json_ok "status m3" "$tmp/out"
run 0 "verify m3 before any removal" "$LETHE" verify --workspace "$w3"
# forget publishes: a new public model and a certificate that verifies
"$LETHE" export --workspace "$w3" --out "$tmp/w3.0" >/dev/null
run 0 "forget m3" "$LETHE" forget --workspace "$w3" 7003 7011
has "forget m3" "$tmp/out" "published +yes"
has "forget m3" "$tmp/out" "release +2 "
"$LETHE" export --workspace "$w3" --out "$tmp/w3.1" >/dev/null
cmp -s "$tmp/w3.0" "$tmp/w3.1" && bad "forget m3: the public model did not change" || ok
run 0 "verify m3" "$LETHE" verify --workspace "$w3" --json
has "verify m3" "$tmp/out" '"verified": true, "certificates": 1, .*"model_checked": true'
has "verify m3" "$tmp/out" '"mechanism": "M3 \(noise-free'
cert="$w3/ledger/00000001.json"
has "m3 certificate" "$cert" '"mechanism": "M3"'
has "m3 certificate" "$cert" '"k": 2'
has "m3 certificate" "$cert" '"releases": 2'
has "m3 certificate" "$cert" '"delta_max": '
in_clear "$cert" && bad "an M3 certificate names a removed id in clear" || ok
# --no-publish: the public model stays byte for byte, and no certificate
run 0 "forget m3 --no-publish" "$LETHE" forget --workspace "$w3" --no-publish 7020
has "forget m3 --no-publish" "$tmp/out" "published +no$"
has "forget m3 --no-publish" "$tmp/out" "still in the.*public model until 'lethe publish"
run 0 "forget m3 --no-publish again" "$LETHE" forget --workspace "$w3" --no-publish 7021
"$LETHE" export --workspace "$w3" --out "$tmp/w3.2" >/dev/null
cmp -s "$tmp/w3.1" "$tmp/w3.2" && ok || bad "forget --no-publish changed the public model"
same_certs=$(certs "$w3")
[ "$same_certs" -eq 1 ] && ok || bad "forget --no-publish added a certificate ($same_certs)"
run 0 "verify m3 unpublished" "$LETHE" verify --workspace "$w3"
run 0 "status m3 unpublished" "$LETHE" status --workspace "$w3" --json
has "status m3 unpublished" "$tmp/out" '"fresh": false, "unpublished": 2,'
# publish: one certificate with both unpublished ids
run 0 "publish m3" "$LETHE" publish --workspace "$w3"
has "publish m3" "$tmp/out" "release +3 "
has "publish m3" "$tmp/out" "ids it certifies +2 "
[ "$(certs "$w3")" -eq 2 ] && ok || bad "publish did not add one certificate"
has "publish certificate" "$w3/ledger/00000002.json" '"k": 2'
has "publish certificate" "$w3/ledger/00000002.json" '"releases": 3'
run 0 "verify m3 published" "$LETHE" verify --workspace "$w3" --json
has "verify m3 published" "$tmp/out" '"verified": true, "certificates": 2, .*"model_checked": true'
# refresh: θ retrained, then a fresh release, certified
run 0 "refresh m3" "$LETHE" refresh --workspace "$w3"
has "refresh m3" "$tmp/out" "published +yes"
has "refresh m3" "$tmp/out" "records n +256$"
run 0 "verify m3 after refresh" "$LETHE" verify --workspace "$w3" --json
has "verify m3 after refresh" "$tmp/out" '"verified": true, "certificates": 3, .*"model_checked": true'
# after the refresh the ids are gone from the state; the ledger names them
# (keyed hashes): the unpublished ones in the publication's certificate
run 3 "m3 id removed unpublished, then published" "$LETHE" forget --workspace "$w3" 7020
has "m3 id in the publication" "$tmp/err" "already removed \(certificate 00000002"
run 3 "m3 id removed and published" "$LETHE" forget --workspace "$w3" 7003
has "m3 id in the first certificate" "$tmp/err" "already removed \(certificate 00000001"
run 0 "refresh m3 --no-publish" "$LETHE" refresh --workspace "$w3" --no-publish
[ "$(certs "$w3")" -eq 3 ] && ok || bad "refresh --no-publish added a certificate"
run 0 "verify m3 after refresh --no-publish" "$LETHE" verify --workspace "$w3"

# the ε cap: release 1 fits, release 2 does not; refused commands change nothing
wc3="$tmp/wcap"
"$LETHE" init "$wc3" >/dev/null
run 0 "train m3 with a cap" "$LETHE" train --workspace "$wc3" $data --epsilon-cap 1.2
print_ws "$wc3" >"$tmp/before"
run 4 "forget over the cap" "$LETHE" forget --workspace "$wc3" 7005
has "forget over the cap" "$tmp/err" "publication refused"
run 4 "forget over the cap, dry run" "$LETHE" forget --workspace "$wc3" --dry-run 7005
run 4 "refresh over the cap" "$LETHE" refresh --workspace "$wc3"
unchanged "refused M3 commands" "$wc3"
run 0 "forget under the cap, --no-publish" "$LETHE" forget --workspace "$wc3" --no-publish 7005
print_ws "$wc3" >"$tmp/before"
run 4 "publish over the cap" "$LETHE" publish --workspace "$wc3"
has "publish over the cap" "$tmp/err" "nothing was published"
unchanged "refused publish" "$wc3"
run 0 "verify the capped workspace" "$LETHE" verify --workspace "$wc3"

# publish is for M3; guo and M2 workspaces refuse it and do not change
print_ws "$ws" >"$tmp/before"
run 1 "publish a guo workspace" "$LETHE" publish --workspace "$ws"
has "publish a guo workspace" "$tmp/err" "guo model"
run 1 "forget --no-publish on guo" "$LETHE" forget --workspace "$ws" --no-publish 7070
unchanged "publish on guo" "$ws"
print_ws "$m2" >"$tmp/before"
run 1 "publish an m2 workspace" "$LETHE" publish --workspace "$m2"
unchanged "publish on m2" "$m2"
run 1 "mechanism options in a workspace" "$LETHE" train --workspace "$tmp/nows" $data --sigma 2


# ── HEAD binds the files: no copy brings a removed record back ──────────────
# Each attack starts from a fresh copy of a workspace whose record 7104 was
# removed (and certified); the old generation's files and another
# workspace's were kept aside. After the copy, either every command refuses
# to open the workspace (exit 2, nothing changed), or 7104 is still removed.
# forget_opts BASE: what forget needs besides the ids (M2 keeps no data)
forget_opts() { case $1 in *bind-m2*) echo "$data --norm normalize" ;; esac; }
bind_case() { # LABEL MECHANISM-OPTIONS
    b="$tmp/bind-$1"
    "$LETHE" init "$b" >/dev/null
    "$LETHE" train --workspace "$b" $data $2 >/dev/null
    mkdir -p "$b.old"
    cp "$b"/HEAD "$b"/state.* "$b"/model.* "$b.old/"
    "$LETHE" forget --workspace "$b" $(forget_opts "$b") 7104 >/dev/null
}
bind_case guo "--mechanism guo --budget 0.5"
bind_case m3 ""
bind_case m2 "--mechanism m2 --capacity 3 --norm normalize"
"$LETHE" init "$tmp/bind-other" >/dev/null
"$LETHE" train --workspace "$tmp/bind-other" $data >/dev/null
other="$tmp/bind-other"
copies=0 refused=0
# attack LABEL BASE: run the copy commands given on stdin (with $w the
# workspace, $old the old files, $other another workspace) on a copy of BASE;
# $opened is then the exit status of opening it
attack() {
    label=$1 base=$2
    w="$tmp/attack"
    rm -rf "$w"
    cp -a "$base" "$w"
    old="$base.old"
    . /dev/stdin
    copies=$((copies + 1))
    print_ws "$w" >"$tmp/before"
    rc=0
    "$LETHE" status --workspace "$w" >"$tmp/out" 2>"$tmp/err" || rc=$?
    opened=$rc # (run below sets rc)
    if [ "$rc" -eq 2 ]; then
        refused=$((refused + 1))
        ok
        has "$label: refused" "$tmp/err" "HEAD committed|symbolic link|is not a lethe|beyond the|do not match its ledger"
        run 2 "$label: forget refused too" "$LETHE" forget --workspace "$w" \
            $(forget_opts "$base") --dry-run 7104
        run 2 "$label: verify refused too" "$LETHE" verify --workspace "$w"
        unchanged "$label: refused without touching anything" "$w"
    elif [ "$rc" -eq 0 ]; then
        run 3 "$label: 7104 stays removed" "$LETHE" forget --workspace "$w" \
            $(forget_opts "$base") --dry-run 7104
    else
        bad "$label: status exit $rc"
    fi
}
for mech in guo m3; do
    B="$tmp/bind-$mech"
    attack "$mech: old state over the current" "$B" <<'EOS'
cp "$old"/state.00000001 "$w"/state.00000002
EOS
    attack "$mech: old state and model over the current" "$B" <<'EOS'
cp "$old"/state.00000001 "$w"/state.00000002; cp "$old"/model.00000001.public "$w"/model.00000002.public
EOS
    attack "$mech: old HEAD" "$B" <<'EOS'
cp "$old"/HEAD "$w"/HEAD
EOS
    attack "$mech: old HEAD and state" "$B" <<'EOS'
cp "$old"/HEAD "$w"/HEAD; cp "$old"/state.00000001 "$w"/
EOS
    attack "$mech: old HEAD and state, current ones removed" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/; rm "$w"/state.00000002 "$w"/model.00000002.public
EOS
    attack "$mech: the last certificate removed" "$B" <<'EOS'
rm "$w"/ledger/00000001.json
EOS
    attack "$mech: the last certificate altered" "$B" <<'EOS'
printf ' ' >>"$w"/ledger/00000001.json
EOS
    attack "$mech: a state from another workspace" "$B" <<'EOS'
cp "$other"/state.00000001 "$w"/state.00000002
EOS
    attack "$mech: state and model from another workspace" "$B" <<'EOS'
cp "$other"/state.00000001 "$w"/state.00000002; cp "$other"/model.00000001.public "$w"/model.00000002.public
EOS
    attack "$mech: HEAD, state and model from another workspace" "$B" <<'EOS'
cp "$other"/HEAD "$other"/state.00000001 "$other"/model.00000001.public "$w"/; rm "$w"/state.00000002 "$w"/model.00000002.public
EOS
    attack "$mech: the state renamed to the current generation" "$B" <<'EOS'
mv "$w"/state.00000002 "$w"/x; cp "$old"/state.00000001 "$w"/state.00000002
EOS
done
# M3 without a certificate: an unpublished removal commits a generation
# with the ledger's last certificate unchanged; the old state is refused
m3u="$tmp/bind-m3u"
cp -a "$tmp/bind-m3" "$m3u"
cp "$m3u"/state.00000002 "$tmp/m3u-state2"
"$LETHE" forget --workspace "$m3u" --no-publish 7105 >/dev/null
mkdir -p "$m3u.old"
cp "$tmp/m3u-state2" "$m3u.old/state.00000002"
attack "m3 unpublished: the published state over the unpublished one" "$m3u" <<'EOS'
cp "$old"/state.00000002 "$w"/state.00000003
EOS
run 0 "m3 unpublished: the workspace itself opens" "$LETHE" status --workspace "$m3u"
run 3 "m3 unpublished: 7105 removed" "$LETHE" forget --workspace "$m3u" --dry-run 7105
# An old HEAD restored with its generation's files, the newer generation
# and its certificate left beside them: the certificate is the evidence
# that the newer generation was committed but for HEAD, so open completes
# the commit (rolls forward) instead of deleting it, and 7104 stays removed.
# A certificate whose generation is missing or does not match is not an
# interrupted change: refused, nothing touched.
for mech in guo m3 m2; do
    B="$tmp/bind-$mech"
    attack "$mech: old HEAD and files restored, the newer generation left" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/
EOS
    [ "$opened" -eq 0 ] && ok || bad "$mech: restored old HEAD: not rolled forward (exit $opened)"
    run 0 "$mech: rolled forward: status" "$LETHE" status --workspace "$w" --json
    has "$mech: rolled forward" "$tmp/out" '"generation": 2, "certificates": 1'
    run 0 "$mech: rolled forward: verify" "$LETHE" verify --workspace "$w"
    [ ! -e "$w/state.00000001" ] && [ ! -e "$w/model.00000001.public" ] && ok ||
        bad "$mech: rolled forward, but the old generation's files are left"
    attack "$mech: old HEAD restored, the newer state removed, its certificate left" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/; rm "$w"/state.00000002
EOS
    [ "$opened" -eq 2 ] && has "$mech: newer state removed" "$tmp/err" "do not match its ledger" ||
        bad "$mech: newer state removed, certificate left: not refused (exit $opened)"
    attack "$mech: old HEAD restored, the newer public model replaced" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/; cp "$old"/model.00000001.public "$w"/model.00000002.public
EOS
    [ "$opened" -eq 2 ] && has "$mech: newer public replaced" "$tmp/err" "do not match its ledger" ||
        bad "$mech: newer public model replaced: not refused (exit $opened)"
    attack "$mech: old HEAD restored, the newer state cut short" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/; head -c 100 "$B"/state.00000002 >"$w"/state.00000002
EOS
    [ "$opened" -eq 2 ] && has "$mech: newer state cut" "$tmp/err" "do not match its ledger" ||
        bad "$mech: newer state cut short: not refused (exit $opened)"    # the certificate vouches for the public models, not the secret state:
    # the state is checked against it (no record it or an earlier one
    # removed; M3: its n), so an older state in the newer one's place is
    # refused rather than adopted with 7104 back in it
    attack "$mech: old HEAD restored, the old state in the newer one's place" "$B" <<'EOS'
cp "$old"/HEAD "$old"/state.00000001 "$old"/model.00000001.public "$w"/; cp "$old"/state.00000001 "$w"/state.00000002
EOS
    [ "$opened" -eq 2 ] && has "$mech: old state as the newer" "$tmp/err" "do not match its ledger" ||
        bad "$mech: old state in the newer one's place: not refused (exit $opened)"
done
# sealed_restored DIR: an encrypted workspace whose record 7104 was removed
# (certified), then the old HEAD and generation's files restored beside it
sealed_restored() {
    "$LETHE" init "$1" --key-file "$tmp/bind.key" >/dev/null
    "$LETHE" train --workspace "$1" --key-file "$tmp/bind.key" $data >/dev/null
    mkdir -p "$1.old"
    cp "$1"/HEAD "$1"/state.* "$1"/model.* "$1.old/"
    "$LETHE" forget --workspace "$1" --key-file "$tmp/bind.key" 7104 >/dev/null
    cp "$1.old"/* "$1"/
}
# encrypted: without the key the sealed state is checked by its header
# (this workspace's key id), and the commit is completed all the same
be="$tmp/bind-enc"
sealed_restored "$be"
run 0 "encrypted: restored old HEAD rolled forward without the key" "$LETHE" verify --workspace "$be"
run 3 "encrypted: 7104 stays removed" "$LETHE" forget --workspace "$be" --key-file "$tmp/bind.key" --dry-run 7104
# the same with the old sealed state in the newer one's place: without the
# key nothing can tell, so nothing is written; with it, it is refused
be2="$tmp/bind-enc2"
sealed_restored "$be2"
cp "$be2.old"/state.00000001 "$be2"/state.00000002
print_ws "$be2" >"$tmp/before"
run 0 "encrypted: old sealed state as the newer: read without the key" "$LETHE" verify --workspace "$be2"
unchanged "encrypted: a keyless roll-forward writes nothing" "$be2"
run 2 "encrypted: old sealed state as the newer: refused with the key" "$LETHE" forget \
    --workspace "$be2" --key-file "$tmp/bind.key" --dry-run 7104
has "encrypted: old sealed state as the newer" "$tmp/err" "do not match its ledger"
unchanged "encrypted: refused without touching anything" "$be2"
# M3 without a certificate: nothing but the files says that a generation
# beside the current one is the owner's, so it is not adopted (a state
# copied there would bring its records back): it is removed as a crash's
# leftover, and the current generation stays in force
attack "m3: an older state planted as the next generation" "$tmp/bind-m3" <<'EOS'
cp "$old"/state.00000001 "$w"/state.00000003; cp "$w"/model.00000002.public "$w"/model.00000003.public
EOS
[ "$opened" -eq 0 ] && [ ! -e "$w/state.00000003" ] && ok ||
    bad "m3: a planted next generation was kept (exit $opened)"
echo "workspace: $copies copies tried, $refused refused"

# ── no symbolic links among a workspace's entries ───────────────────────────
sl="$tmp/bind-guo"
for entry in LOCK HEAD ledger state.00000002 model.00000002.public owner.key owner.pub; do
    w="$tmp/links"
    rm -rf "$w" "$tmp/elsewhere"
    cp -a "$sl" "$w"
    mkdir "$tmp/elsewhere"
    touch "$w/LOCK"
    mv "$w/$entry" "$tmp/elsewhere/$entry"
    ln -s "$tmp/elsewhere/$entry" "$w/$entry"
    print_ws "$w" >"$tmp/before"
    run 2 "a symlinked $entry" "$LETHE" forget --workspace "$w" 7110
    has "a symlinked $entry" "$tmp/err" "symbolic link"
    unchanged "a symlinked $entry" "$w"
    n=$(find "$tmp/elsewhere" -newer "$tmp/before" | wc -l)
    [ "$n" -eq 0 ] && ok || bad "a symlinked $entry: $n files written through it"
done
# a LOCK that points nowhere is not created at its target
w="$tmp/links"
rm -rf "$w"
cp -a "$sl" "$w"
rm -f "$w/LOCK"
ln -s "$tmp/lock-target" "$w/LOCK"
run 2 "a dangling LOCK link" "$LETHE" status --workspace "$w"
[ -e "$tmp/lock-target" ] && bad "a LOCK link created its target" || ok

# ── messages: permission denied, a read-only workspace ──────────────────────
# As root permission bits do not bind: these run as nobody (setpriv), and
# are skipped, with a note, where that is not possible.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    pd="$tmp/perm"
    mkdir -p "$pd"
    chmod 755 "$tmp"
    cp -a "$tmp/bind-m3" "$pd/ws"
    cp "$tmp/data.csv" "$pd/"
    chown -R 65534:65534 "$pd"
    chmod 000 "$pd/ws/HEAD"
    run 2 "HEAD not readable" as_nobody "$LETHE" status --workspace "$pd/ws"
    has "HEAD not readable" "$tmp/err" "Permission denied"
    grep -q "not a lethe workspace" "$tmp/err" && bad "permission denied reported as no HEAD" || ok
    chmod 644 "$pd/ws/HEAD"
    chmod 000 "$pd/ws"
    run 2 "workspace not searchable" as_nobody "$LETHE" status --workspace "$pd/ws"
    has "workspace not searchable" "$tmp/err" "Permission denied"
    chmod 700 "$pd/ws"
    # read-only: no write permission anywhere in the workspace
    rm -f "$pd/ws/LOCK"
    chmod -R a-w "$pd/ws"
    print_ws "$pd/ws" >"$tmp/before"
    run 0 "status, read-only" as_nobody "$LETHE" status --workspace "$pd/ws"
    run 0 "verify, read-only" as_nobody "$LETHE" verify --workspace "$pd/ws"
    run 0 "export, read-only" as_nobody "$LETHE" export --workspace "$pd/ws" --out "$pd/exported"
    run 5 "forget, read-only" as_nobody "$LETHE" forget --workspace "$pd/ws" 7120
    has "forget, read-only" "$tmp/err" "read-only"
    unchanged "read-only commands" "$pd/ws"
    # with a LOCK that exists but cannot be written: a shared lock
    chmod u+w "$pd/ws"; touch "$pd/ws/LOCK"; chown 65534 "$pd/ws/LOCK"; chmod 444 "$pd/ws/LOCK"
    chmod u-w "$pd/ws"
    run 0 "status, read-only LOCK" as_nobody "$LETHE" status --workspace "$pd/ws"
    run 0 "verify, read-only LOCK" as_nobody "$LETHE" verify --workspace "$pd/ws"
    chmod -R u+w "$pd"
else
    echo "workspace: permission tests skipped (not root with setpriv)"
fi

echo "workspace: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
