#!/bin/sh
# Crash consistency of a workspace: end `lethe forget` (and `lethe refresh`,
# M3's `forget --no-publish` and `lethe publish`) at every durable write
# step k = 1, 2, … in turn — the library's test hook LETHE_TEST_CRASH_AFTER=k
# makes the process _exit(86) right after the k-th create / fsync / rename /
# directory fsync / remove — and check each time that the workspace is
# exactly the old generation or the new one: it opens (tidying what the
# crash left), `lethe verify` passes on its ledger, the new generation has
# its certificate (none for an unpublished M3 removal), the record is either
# still there (and can be forgotten now) or gone, and nothing else is left
# in the directory. A crash after the certificate was written (before HEAD)
# gives the new generation: open rolls the commit forward, since the
# certificate shows that it was complete but for HEAD (src/io/workspace.c).
#
#   LETHE=build/lethe sh tests/crash.sh
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
LETHE=${LETHE:-build/lethe}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
points=0

make_csv "$tmp/data.csv" 977 240 500 0.5 1 -1.5 0 0.5
data="--data $tmp/data.csv --id-col 0"

# generation DIR: the changes committed to the workspace DIR
generation() {
    "$LETHE" status --workspace "$1" --json | sed -n 's/.*"generation": \([0-9]*\).*/\1/p'
}

# Crash `lethe $*` (run on a copy of the workspace $base) at every step until
# it completes; $id is the record the command removes ("" for refresh). The
# generation tells old from new; the new one has $adds certificates more
# (1, or 0 for a change that publishes nothing).
adds=1
sweep() {
    base=$1 label=$2 id=$3
    shift 3
    certs_before=$(ls "$base/ledger" | wc -l)
    gen_before=$(generation "$base")
    k=1
    while [ "$k" -le 200 ]; do
        ws="$tmp/crash-$label"
        rm -rf "$ws"
        cp -a "$base" "$ws"
        LETHE_TEST_CRASH_AFTER=$k "$LETHE" "$@" --workspace "$ws" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne 86 ] && [ "$rc" -ne 0 ]; then
            bad "$label: step $k: exit $rc, neither a crash nor success"; cat "$tmp/err"
            return
        fi
        # the certificate on disk before reopening: once it is written, the
        # commit is complete but for HEAD, and open completes it
        written=$(ls "$ws/ledger" | grep -c '^[0-9]\{8\}\.json$')
        # reopen: the crash's leftovers go, and the workspace answers
        if ! "$LETHE" status --workspace "$ws" --json >"$tmp/status" 2>"$tmp/err"; then
            bad "$label: step $k: status fails after the crash"; cat "$tmp/err"
            return
        fi
        if ! "$LETHE" verify --workspace "$ws" >"$tmp/verify" 2>&1; then
            bad "$label: step $k: verify fails after the crash"; cat "$tmp/verify"
            return
        fi
        certs=$(ls "$ws/ledger" | wc -l)
        gen=$(sed -n 's/.*"generation": \([0-9]*\).*/\1/p' "$tmp/status")
        if [ "$gen" -eq "$gen_before" ]; then
            state=old want=$certs_before
        elif [ "$gen" -eq $((gen_before + 1)) ]; then
            state=new want=$((certs_before + adds))
        else
            bad "$label: step $k: generation $gen (before: $gen_before)"
            return
        fi
        [ "$certs" -eq "$want" ] ||
            { bad "$label: step $k: $state generation with $certs certificates, expected $want"; return; }
        [ "$rc" -eq 0 ] && [ "$state" = old ] && { bad "$label: step $k: reported done, but lost"; return; }
        [ "$written" -gt "$certs_before" ] && [ "$state" = old ] &&
            { bad "$label: step $k: its certificate was written, but the change was undone"; return; }
        if [ -n "$id" ]; then
            # old: the record is still there; new: it is gone (exit 3)
            "$LETHE" forget --workspace "$ws" --dry-run "$id" >/dev/null 2>&1
            dr=$?
            { [ "$state" = old ] && [ "$dr" -eq 0 ]; } || { [ "$state" = new ] && [ "$dr" -eq 3 ]; } ||
                { bad "$label: step $k: $state generation, but dry run of $id exits $dr"; return; }
        fi
        # exactly one generation's files, nothing else
        want="HEAD LOCK ledger $(printf 'model.%08d.public' "$gen") owner.key owner.pub $(printf 'state.%08d' "$gen")"
        have=$(cd "$ws" && ls -A | tr '\n' ' ' | sed 's/ $//')
        [ "$have" = "$want" ] || { bad "$label: step $k: files '$have', expected '$want'"; return; }
        # and it goes on: the same command now succeeds on the recovered workspace
        if [ "$state" = old ]; then
            "$LETHE" "$@" --workspace "$ws" >/dev/null 2>"$tmp/err" ||
                { bad "$label: step $k: the command fails after recovery"; cat "$tmp/err"; return; }
            "$LETHE" verify --workspace "$ws" >/dev/null 2>&1 ||
                { bad "$label: step $k: verify fails after the retried command"; return; }
        fi
        ok
        points=$((points + 1))
        [ "$rc" -eq 0 ] && break
        k=$((k + 1))
    done
    echo "crash: $label: $((k - 1)) crash points, then the command completes at step $k"
}

# M1: a trained workspace with one removal already in its ledger
m1="$tmp/m1"
"$LETHE" init "$m1" >/dev/null || bad "init"
"$LETHE" train --mechanism guo --workspace "$m1" $data --budget 0.5 >/dev/null || bad "train"
"$LETHE" forget --workspace "$m1" 501 >/dev/null || bad "first forget"
sweep "$m1" m1-forget 507 forget 507
sweep "$m1" m1-forget-batch 510 forget 510 511 512
sweep "$m1" m1-refresh "" refresh

# M1, encrypted at rest
m1e="$tmp/m1e"
"$LETHE" init "$m1e" --key-file "$tmp/at-rest.key" >/dev/null || bad "init encrypted"
"$LETHE" train --mechanism guo --workspace "$m1e" --key-file "$tmp/at-rest.key" $data --budget 0.5 >/dev/null ||
    bad "train encrypted"
LETHE_KEY="$tmp/at-rest.key"
ws="$tmp/crash-enc"
k=1
while [ "$k" -le 200 ]; do
    rm -rf "$ws"
    cp -a "$m1e" "$ws"
    LETHE_TEST_CRASH_AFTER=$k "$LETHE" forget --workspace "$ws" --key-file "$LETHE_KEY" 520 \
        >/dev/null 2>&1
    rc=$?
    "$LETHE" status --workspace "$ws" --key-file "$LETHE_KEY" >/dev/null 2>&1 &&
        "$LETHE" verify --workspace "$ws" >/dev/null 2>&1 ||
        { bad "encrypted: step $k: not consistent after the crash"; break; }
    ok
    points=$((points + 1))
    [ "$rc" -eq 0 ] && break
    k=$((k + 1))
done
echo "crash: m1-encrypted: $((k - 1)) crash points"

# M2: the removed records come from the data file
m2="$tmp/m2"
"$LETHE" init "$m2" >/dev/null || bad "init m2"
"$LETHE" train --workspace "$m2" --mechanism m2 $data --norm normalize --capacity 5 \
    >/dev/null || bad "train m2"
sweep "$m2" m2-forget "" forget $data --norm normalize 530

# M3 (the default): a forget publishes a fresh release with its certificate;
# a publish after forget --no-publish certifies the unpublished ids; a
# refresh retrains θ and publishes
m3="$tmp/m3"
"$LETHE" init "$m3" >/dev/null || bad "init m3"
"$LETHE" train --workspace "$m3" $data >/dev/null || bad "train m3"
"$LETHE" forget --workspace "$m3" 501 >/dev/null || bad "first m3 forget"
sweep "$m3" m3-forget 507 forget 507
sweep "$m3" m3-forget-batch 510 forget 510 511 512
sweep "$m3" m3-refresh "" refresh
adds=0
sweep "$m3" m3-forget-no-publish 540 forget --no-publish 540
adds=1
m3u="$tmp/m3u"
cp -a "$m3" "$m3u"
"$LETHE" forget --workspace "$m3u" --no-publish 540 >/dev/null || bad "m3 forget --no-publish"
sweep "$m3u" m3-publish "" publish

# one-vs-rest (M3, four classes): its own state file, the records once
make_multi_csv "$tmp/multi.csv" 977 200 600
mdata="--data $tmp/multi.csv --id-col 0 --norm normalize"
ovr="$tmp/ovr"
"$LETHE" init "$ovr" >/dev/null || bad "init one-vs-rest"
"$LETHE" train --workspace "$ovr" $mdata --classes all --lambda 0.001 >/dev/null ||
    bad "train one-vs-rest"
sweep "$ovr" ovr-forget 607 forget 607
sweep "$ovr" ovr-refresh "" refresh

echo "crash: $points crash points checked; $pass passed, $fail failed"
[ "$fail" -eq 0 ]
