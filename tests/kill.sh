#!/bin/sh
# A fault from outside the process: `lethe forget` and `lethe refresh` are
# killed with SIGKILL at random moments (a random few milliseconds after they
# start), over and over on the same guo, M3 and one-vs-rest workspaces, and
# after each kill the invariants are checked:
#   - the workspace opens (`lethe status` exits 0, tidying what the kill left);
#   - `lethe verify --workspace` passes;
#   - every id a certificate names is absent from the model (`forget
#     --dry-run ID` exits 3, "already removed"): the id of the killed command
#     when the ledger grew, and a sample of the earlier ones (all at the end);
#   - nothing but the workspace's own files is left (no temporary files).
# Unlike crash.sh (the library's own hook, at each durable step), nothing
# here cooperates with the process.
#
#   LETHE=build/lethe [KILLS=200] [KILL_SEED=N] sh tests/kill.sh
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
LETHE=${LETHE:-build/lethe}
KILLS=${KILLS:-200}
KILL_SEED=${KILL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
echo "kill: $KILLS kills, seed $KILL_SEED (KILL_SEED=$KILL_SEED repeats the delays)"

make_csv "$tmp/data.csv" 3119 400 1000 0.5 1.5 -1 0 0.5
data="--data $tmp/data.csv --id-col 0"
"$LETHE" init "$tmp/guo" >/dev/null
"$LETHE" train --workspace "$tmp/guo" $data --mechanism guo --budget 50 >/dev/null
"$LETHE" init "$tmp/m3" >/dev/null
"$LETHE" train --workspace "$tmp/m3" $data >/dev/null
# one-vs-rest (M3, four classes, the same ids): its own state file
make_multi_csv "$tmp/multi.csv" 3119 400 1000
"$LETHE" init "$tmp/ovr" >/dev/null
"$LETHE" train --workspace "$tmp/ovr" --data "$tmp/multi.csv" --id-col 0 --norm normalize \
    --classes all --lambda 0.001 >/dev/null

# One attempt per line: the command (0–2: forget, 3: refresh), the delay
# in microseconds before the kill (0–20 ms; a command takes 10–30), the
# workspace (0 guo, 1 M3, 2 one-vs-rest). A command that finished first does not count: the
# attempts go on until KILLS kills (at most 4·KILLS attempts).
awk -v seed="$KILL_SEED" -v n="$KILLS" 'BEGIN {
    srand(seed)
    for (i = 0; i < 4 * n; i++)
        printf "%d %d %d\n", int(4 * rand()), int(20000 * rand()), int(3 * rand())
}' >"$tmp/plan"

certs() { ls "$1/ledger" | grep -c '^[0-9]\{8\}\.json$'; }
kills=0 invariants=0 removed=0 done_before_kill=0
next_id=1000
: >"$tmp/certified"

# check WS LABEL: the invariants after a kill
check() {
    w=$1 what_=$2
    invariants=$((invariants + 1))
    run 0 "$what_: verify after the kill" "$LETHE" verify --workspace "$w"
    left=$( (ls -A "$w"; ls -A "$w/ledger") | grep -Ev \
        '^(HEAD|LOCK|ledger|owner\.key|owner\.pub|state\.[0-9]{8}|model\.[0-9]{8}\.public|[0-9]{8}\.json)$')
    [ -z "$left" ] && ok || bad "$what_: left behind: $left"
    # the killed command's id and three earlier ones, taken at random
    for id in $(awk -v s="$KILL_SEED$kills" 'BEGIN { srand(s) } { a[NR] = $0 }
        END { if (NR) { print a[NR]; for (i = 0; i < 3; i++) print a[1 + int(NR * rand())] } }' \
        "$tmp/certified.$3"); do
        run 3 "$what_: certified id $id is absent" "$LETHE" forget --workspace "$w" --dry-run "$id"
    done
}
: >"$tmp/certified.guo"
: >"$tmp/certified.m3"
: >"$tmp/certified.ovr"

while [ "$kills" -lt "$KILLS" ] && read -r what delay which; do
    case $which in 0) name=guo ;; 1) name=m3 ;; *) name=ovr ;; esac
    w="$tmp/$name"
    before=$(certs "$w")
    if [ "$what" -lt 3 ]; then
        id=$next_id
        set -- forget --workspace "$w" "$id"
    else
        id=""
        set -- refresh --workspace "$w"
    fi
    "$LETHE" "$@" >/dev/null 2>"$tmp/err" &
    pid=$!
    sleep "$(awk -v u="$delay" 'BEGIN { printf "%.6f", u / 1e6 }')"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); else done_before_kill=$((done_before_kill + 1)); fi
    wait "$pid" 2>/dev/null
    # the workspace opens, tidying what the kill left (a certificate beyond
    # HEAD goes then): only after that does the ledger say what committed
    run 0 "$name: status after the kill" "$LETHE" status --workspace "$w"
    after=$(certs "$w")
    # a forget that committed certified its id (M3 publishes each forget)
    if [ -n "$id" ] && [ "$after" -gt "$before" ]; then
        echo "$id" >>"$tmp/certified.$name"
        removed=$((removed + 1))
        next_id=$((next_id + 1))
    elif [ -n "$id" ]; then
        # not committed: the id is still there, and may be removed later
        run 0 "$name: uncommitted id $id still present" "$LETHE" forget --workspace "$w" --dry-run "$id"
    fi
    check "$w" "$name ($1 after ${delay} µs)" "$name"
done <"$tmp/plan"

# at the end: every certified id of every workspace
for name in guo m3 ovr; do
    while read -r id; do
        invariants=$((invariants + 1))
        run 3 "$name: certified id $id is absent at the end" \
            "$LETHE" forget --workspace "$tmp/$name" --dry-run "$id"
    done <"$tmp/certified.$name"
done

echo "kill: $kills kills ($done_before_kill commands finished first), $removed removals committed, $invariants invariant checks"
echo "kill: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
