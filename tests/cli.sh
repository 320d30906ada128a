#!/bin/sh
# End-to-end test of the lethe tool: train, capacity, forget, predict,
# keygen and verify, and the exit status of each kind of failure.
#   LETHE=build/lethe sh tests/cli.sh
# Prints one line per failed check and ends with "cli: N passed, M failed";
# exits non-zero if any check failed.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

: "${LETHE:?set LETHE to the lethe binary}"
finished=0
tmp=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
# If the script itself stops early, say so in the summary's place.
on_exit() {
    rc=$?
    rm -rf "$tmp"
    [ "$finished" -eq 1 ] || echo "cli: aborted after $pass passed, $fail failed"
    exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

SEED=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

# checksum FILE: its cksum, or "missing" (a failed redirection would end the script).
checksum() {
    if [ -f "$1" ]; then cksum <"$1"; else echo missing; fi
}

# same NAME A B: A equals B.
same() {
    if [ "$2" = "$3" ]; then ok; else bad "$1: '$2' != '$3'"; fi
}

# A synthetic data set: 300 records, an id column (1000 …), 5 features in
# [-1, 1) from a fixed linear congruential generator (exact in awk's
# doubles: 69069·2³² < 2⁵³), and a label ±1 from a planted linear model
# with some noise.
make_csv "$tmp/data.csv" 2385 300 1000 0.6 1.5 -2 1 0 -0.5
same "data rows" "$(wc -l <"$tmp/data.csv" | tr -d ' ')" 301

state="$tmp/model.state"
data="--data $tmp/data.csv --id-col 0"

# ── help and version ────────────────────────────────────────────────────────
run 0 "--help" "$LETHE" --help
has "--help" "$tmp/out" "exit status"
has "--help" "$tmp/out" "4 +removal refused"
for cmd in keygen verify train forget publish capacity predict; do
    run 0 "$cmd --help" "$LETHE" "$cmd" --help
    has "$cmd --help" "$tmp/out" "^usage: lethe $cmd"
    has "$cmd --help" "$tmp/out" "exit status"
done
has "predict --help" "$tmp/out" "--classes POS,NEG"
run 0 "--version" "$LETHE" --version
has "--version" "$tmp/out" "^lethe [0-9]+\.[0-9]+\.[0-9]+$"
run 1 "no command" "$LETHE"
run 1 "unknown command" "$LETHE" frobnicate

# ── usage errors (exit 1), checked before any file is read ──────────────────
run 1 "epsilon 0" "$LETHE" train --mechanism guo $data --budget 0.5 --epsilon 0 --model "$state"
has "epsilon 0" "$tmp/err" "^lethe: train: --epsilon"
run 1 "epsilon -1" "$LETHE" train --mechanism guo $data --budget 0.5 --epsilon -1 --model "$state"
run 1 "epsilon text" "$LETHE" train --mechanism guo $data --budget 0.5 --epsilon 1x --model "$state"
run 1 "delta 1.5" "$LETHE" train --mechanism guo $data --budget 0.5 --delta 1.5 --model "$state"
has "delta 1.5" "$tmp/err" "^lethe: train: --delta: .*\[1e-12, 0.5\]"
# Extreme values are refused at the option level, with the range, not deep in
# the library with "above a tenth of the budget nan" (issue 10).
for v in 1e-300 1e300; do
    run 1 "epsilon $v" "$LETHE" train $data --epsilon $v --model "$state"
    has "epsilon $v" "$tmp/err" "^lethe: train: --epsilon: ε must be a number in \[1e-06, 100\]"
    run 1 "delta $v" "$LETHE" train --mechanism guo $data --budget 0.5 --delta $v --model "$state"
    has "delta $v" "$tmp/err" "^lethe: train: --delta: δ must be a number in \[1e-12, 0.5\]"
    run 1 "sigma $v" "$LETHE" train --mechanism guo $data --sigma $v --model "$state"
    has "sigma $v" "$tmp/err" "^lethe: train: --sigma: σ must be a number in \[1e-100, 1e\+100\]"
    run 1 "budget $v" "$LETHE" train --mechanism guo $data --budget $v --model "$state"
    has "budget $v" "$tmp/err" "^lethe: train: --budget: .* must be a number in \[1e-100, 1e\+100\]"
done
run 1 "delta 0.9" "$LETHE" train --mechanism guo $data --budget 0.5 --delta 0.9 --model "$state"
run 1 "delta 0" "$LETHE" train --mechanism guo $data --budget 0.5 --delta 0 --model "$state"
run 1 "lambda 0" "$LETHE" train --mechanism guo $data --budget 0.5 --lambda 0 --model "$state"
run 1 "sigma and budget" "$LETHE" train --mechanism guo $data --budget 0.5 --sigma 1 --model "$state"
run 1 "no noise" "$LETHE" train --mechanism guo $data --model "$state"
run 1 "no model" "$LETHE" train --mechanism guo $data --budget 0.5
has "no model" "$tmp/err" "--model is required"
run 1 "unknown option" "$LETHE" train --mechanism guo $data --budget 0.5 --model "$state" --frobnicate
has "unknown option" "$tmp/err" "unknown option --frobnicate"
run 1 "missing value" "$LETHE" train --mechanism guo $data --budget 0.5 --model
run 1 "bad seed" "$LETHE" train --mechanism guo $data --budget 0.5 --seed abc --model "$state"
run 1 "bad norm" "$LETHE" train --mechanism guo $data --budget 0.5 --norm sometimes --model "$state"
run 1 "R with measure" "$LETHE" train --mechanism guo $data --budget 0.5 --R 2 --model "$state"
run 1 "option of another command" "$LETHE" capacity --model "$state" --exact
run 1 "idx without labels" "$LETHE" train --mechanism guo --data "$tmp/t-idx3-ubyte.gz" --budget 1 --model "$state"
run 1 "forget without ids" "$LETHE" forget --model "$state"
run 1 "forget bad id" "$LETHE" forget --model "$state" 12x
run 1 "forget negative id" "$LETHE" forget --model "$state" -- -3
test ! -e "$state" && ok || bad "usage errors wrote a state"

# ── input data errors (exit 2) ──────────────────────────────────────────────
printf 'id,x1,x2,y\n1,0.5,0.25,1\n2,0.125,-1\n' >"$tmp/ragged.csv"
run 2 "ragged csv" "$LETHE" train --mechanism guo --data "$tmp/ragged.csv" --id-col 0 --budget 1 --model "$state"
has "ragged csv" "$tmp/err" "^lethe: train: malformed file: .*ragged.csv: line 3, column 4"
printf '1,0.5,1\n2,nan,-1\n' >"$tmp/nan.csv"
run 2 "nan csv" "$LETHE" train --mechanism guo --data "$tmp/nan.csv" --budget 1 --model "$state"
# one value near the largest double: its square overflows ‖X‖², which once
# surfaced as "dsyev failed (2)", exit 5
printf 'x1,x2,y\n1e308,0.5,1\n0.25,-0.5,-1\n0.5,0.5,1\n' >"$tmp/huge.csv"
run 2 "a value whose square overflows" "$LETHE" train --data "$tmp/huge.csv" --model "$state"
has "a value whose square overflows" "$tmp/err" "scale overflows.*--norm"
test ! -e "$state" && ok || bad "a refused training wrote a state file"
# an index of 10⁷ on 40 rows implies a 3.2 GB dense matrix: refused up front
# against the memory the process may use (here a 2 GB limit), not filled and
# failed later
printf -- '+1 1:0.5 10000000:0.25\n' >"$tmp/wide.libsvm"
i=1
while [ $i -lt 40 ]; do printf -- '-1 2:0.5\n' >>"$tmp/wide.libsvm"; i=$((i + 1)); done
# (a sanitizer build cannot start under such a limit: its shadow memory)
if sh -c 'ulimit -v 2000000; exec "$0" --version' "$LETHE" >/dev/null 2>&1; then
    run 2 "an index implying gigabytes" sh -c "ulimit -v 2000000; exec \"\$0\" \"\$@\"" \
        "$LETHE" train --data "$tmp/wide.libsvm" --model "$state"
    has "an index implying gigabytes" "$tmp/err" "dense matrix of 3.2 GB.*check the indices"
else
    echo "cli: the tool cannot start under ulimit -v (sanitizer build): wide index not tested"
fi
printf 'a,b,y\n' >"$tmp/empty.csv"
run 2 "empty csv" "$LETHE" train --mechanism guo --data "$tmp/empty.csv" --budget 1 --model "$state"
run 2 "missing csv" "$LETHE" train --mechanism guo --data "$tmp/none.csv" --budget 1 --model "$state"
printf '1,0.5,1\n1,0.25,-1\n' >"$tmp/dup.csv"
run 2 "duplicate ids in data" \
    "$LETHE" train --mechanism guo --data "$tmp/dup.csv" --id-col 0 --budget 1 --model "$state"
printf '0.5,0.25,3\n0.125,1,7\n' >"$tmp/labels.csv"
run 2 "labels not ±1" "$LETHE" train --mechanism guo --data "$tmp/labels.csv" --budget 1 --model "$state"
has "labels not ±1" "$tmp/err" "--classes"
run 2 "label column out of range" \
    "$LETHE" train --mechanism guo --data "$tmp/labels.csv" --label-col 5 --budget 1 --model "$state"
test ! -e "$state" && ok || bad "data errors wrote a state"

# ── train ───────────────────────────────────────────────────────────────────
run 0 "train" \
    "$LETHE" train --mechanism guo $data --budget 0.5 --seed $SEED --model "$state" --public "$tmp/public.txt"
for field in "records n +300" "features d +5" "budget ε' +0.5" "training residual" \
    "training time +[0-9.e+-]+ s" "training accuracy +[0-9.]+ %" "seeded noise .* yes"; do
    has "train report" "$tmp/out" "$field"
done
test -s "$state" && ok || bad "train: no state file"
test -s "$tmp/public.txt" && ok || bad "train: no public file"
run 0 "train json" "$LETHE" train --mechanism guo $data --budget 0.5 --seed $SEED --model "$tmp/json.state" --json
has "train json" "$tmp/out" \
    '^\{"mechanism": "guo \(.*\)", "loss": "logistic", "n": 300, "d": 5, .*"train_accuracy": 0\.[0-9]+.*\}$'
# the same seed gives the same model (the state differs only in its path)
run 0 "predict seeded 1" "$LETHE" predict --model "$state" $data
cp "$tmp/out" "$tmp/pred1"
run 0 "predict seeded 2" "$LETHE" predict --model "$tmp/json.state" $data
cmp -s "$tmp/out" "$tmp/pred1" && ok || bad "same seed, different predictions"

# ── capacity ────────────────────────────────────────────────────────────────
run 0 "capacity" "$LETHE" capacity --model "$state"
for field in "^mechanism +guo \(Guo et al\. 2020 loss perturbation: their idealised statement" \
     "budget ε' +0.5" "residual now" "remaining budget" "removals +0 " \
    "capacity estimate +[0-9]+" "estimated as" "Guo worst case" "seeded noise .* yes"; do
    has "capacity report" "$tmp/out" "$field"
done
run 0 "capacity json" "$LETHE" capacity --model "$state" --json
has "capacity json" "$tmp/out" '"removals": 0, "removals_total": 0, .*"n": 300,'
# the noise is the integer lattice sampler, named with its charges
has "capacity json" "$tmp/out" '"sampler": "lattice-gaussian-int64'
has "capacity json" "$tmp/out" '"lattice": [0-9.e+-]+, "lattice_rounding": [0-9.e+-]+, "delta_sampler": [0-9.e+-]+'
grep -q "^sampler lattice-gaussian-int64" "$tmp/public.txt" && ok || bad "public file names the sampler"
run 2 "capacity missing state" "$LETHE" capacity --model "$tmp/none.state"
printf 'not a state\n' >"$tmp/junk.state"
run 2 "capacity junk state" "$LETHE" capacity --model "$tmp/junk.state"

# ── forget ──────────────────────────────────────────────────────────────────
run 0 "forget one" "$LETHE" forget --model "$state" 1003
has "forget one" "$tmp/out" "records removed +1$"
has "forget one" "$tmp/out" "certified +yes"
has "forget one" "$tmp/out" "Guo's bound"
has "forget one" "$tmp/out" "^mechanism +guo \(Guo et al\. 2020 .*not a proven guarantee; two consecutive models reveal the removed record\)$"
has "forget one" "$tmp/out" "time +[0-9.e+-]+ ms"
run 0 "forget batch" "$LETHE" forget --model "$state" 1010 1011 1012 1013
has "forget batch" "$tmp/out" "records removed +4$"
printf '1020\n\n 1021 \r\n1022\n' >"$tmp/ids.txt"
run 0 "forget ids-file" "$LETHE" forget --model "$state" --ids-file "$tmp/ids.txt" --exact
has "forget ids-file" "$tmp/out" "records removed +3$"
has "forget ids-file" "$tmp/out" "Hessian +exact"
printf '1030\n1031\n' >"$tmp/stdin.txt"
run 0 "forget stdin" "$LETHE" forget --model "$state" --json - <"$tmp/stdin.txt"
has "forget stdin" "$tmp/out" '"removed": 2, .*"certified": true'
run 3 "forget removed id" "$LETHE" forget --model "$state" 1003
has "forget removed id" "$tmp/err" "^lethe: forget: .*1003"
run 3 "forget unknown id" "$LETHE" forget --model "$state" 99999
run 3 "forget duplicate in batch" "$LETHE" forget --model "$state" 1040 1040
run 2 "forget bad ids-file" "$LETHE" forget --model "$state" --ids-file "$tmp/ragged.csv"
# A NUL byte inside a line is refused (it once cut "1040\0999" to 1040), from
# a file and from standard input, and nothing is removed.
printf '1041\n1040\000999\n' >"$tmp/nul.txt"
before=$(checksum "$state")
run 2 "forget ids-file NUL" "$LETHE" forget --model "$state" --ids-file "$tmp/nul.txt"
has "forget ids-file NUL" "$tmp/err" "^lethe: forget: .*nul\.txt: line 2: NUL byte"
run 2 "forget stdin NUL" "$LETHE" forget --model "$state" - <"$tmp/nul.txt"
has "forget stdin NUL" "$tmp/err" "^lethe: forget: standard input: line 2: NUL byte"
same "forget NUL leaves the state" "$(checksum "$state")" "$before"
run 0 "capacity after" "$LETHE" capacity --model "$state"
has "capacity after" "$tmp/out" "removals +10 "
has "capacity after" "$tmp/out" "records n +290"

# dry_run LABEL STATE ID...: a dry run reports a removal that would be
# certified, removes nothing, and leaves STATE as it was
dry_run() {
    label=$1 file=$2
    shift 2
    before=$(checksum "$file")
    run 0 "$label" "$LETHE" forget --model "$file" --dry-run "$@"
    has "$label" "$tmp/out" "records removed +0 \(dry run"
    has "$label" "$tmp/out" "would be certified +yes"
    same "$label leaves the state" "$(checksum "$file")" "$before"
}

# dry run: a report, and the state file unchanged
dry_run "dry run" "$state" 1050 1051
run 3 "dry run unknown id" "$LETHE" forget --model "$state" --dry-run 99999
same "failed forget leaves the state" "$(checksum "$state")" "$before"

# over budget: a model with a tiny budget refuses, says so, and keeps its state
run 0 "train tiny budget" "$LETHE" train --mechanism guo $data --budget 1e-6 --seed $SEED --model "$tmp/tiny.state"
before=$(checksum "$tmp/tiny.state")
run 4 "dry run over budget" "$LETHE" forget --model "$tmp/tiny.state" --dry-run 1001 1002 1004
has "dry run over budget" "$tmp/err" "refresh the model"
run 4 "forget over budget" "$LETHE" forget --model "$tmp/tiny.state" 1001 1002 1004
has "forget over budget" "$tmp/err" "^lethe: forget: .*refresh the model"
has "forget over budget" "$tmp/out" "certified +no"
same "refusal leaves the state" "$(checksum "$tmp/tiny.state")" "$before"

# ── refresh ─────────────────────────────────────────────────────────────────
run 0 "refresh" "$LETHE" refresh --model "$state"
has "refresh" "$tmp/out" "records n +290$"
has "refresh" "$tmp/out" "refreshes +1$"
run 0 "capacity after refresh" "$LETHE" capacity --model "$state" --json
has "capacity after refresh" "$tmp/out" '"removals": 0, "removals_total": 10, "refreshes": 1,'
run 3 "removed ids are gone after refresh" "$LETHE" forget --model "$state" 1003
run 0 "forget after refresh" "$LETHE" forget --model "$state" 1060
has "forget after refresh" "$tmp/out" "certified +yes"
run 2 "refresh missing state" "$LETHE" refresh --model "$tmp/none.state"
run 1 "refresh without model" "$LETHE" refresh
run 0 "refresh --help" "$LETHE" refresh --help
run 1 "epsilon above 1" "$LETHE" train --mechanism guo $data --budget 0.5 --epsilon 1.5 --model "$tmp/e.state"
has "epsilon above 1" "$tmp/err" "proven for ε ≤ 1"
test "$(stat -c %a "$state")" = 600 && ok || bad "the state file is not private (mode 600)"

# ── mechanism M2: data-free removal ─────────────────────────────────────────
m2="$tmp/m2.state"
m2data="$data --norm normalize"
run 0 "m2 train" "$LETHE" train --mechanism m2 $m2data --capacity 3 --seed $SEED \
    --model "$m2" --public "$tmp/m2.public"
has "m2 train" "$tmp/out" "mechanism +M2"
has "m2 train" "$tmp/out" "capacity m +3 "
has "m2 train" "$tmp/out" "noise σ +[0-9.e+-]+"
test "$(stat -c %a "$m2")" = 600 && ok || bad "the M2 state file is not private (mode 600)"
grep -q "^mechanism M2" "$tmp/m2.public" && ok || bad "m2 public file names its mechanism"
grep -q "^sampler lattice-gaussian-int64" "$tmp/m2.public" && ok || bad "m2 public file names the sampler"
has "m2 train" "$tmp/out" "noise sampler +lattice-gaussian-int64"
run 1 "m2 with a budget" "$LETHE" train --mechanism m2 $m2data --budget 1 --model "$tmp/x.state"
run 1 "m2 with a measured R" "$LETHE" train --mechanism m2 $data --model "$tmp/x.state"
run 1 "m2 squared loss" "$LETHE" train --mechanism m2 $m2data --loss squared --model "$tmp/x.state"
run 1 "capacity without m2" "$LETHE" train --mechanism guo $data --budget 1 --capacity 5 --model "$tmp/x.state"
run 0 "m2 capacity" "$LETHE" capacity --model "$m2"
has "m2 capacity" "$tmp/out" "removals left +3 "
run 1 "m2 forget without data" "$LETHE" forget --model "$m2" 1003
before=$(checksum "$m2")
run 0 "m2 forget dry run" "$LETHE" forget --model "$m2" $m2data --dry-run 1003
has "m2 forget dry run" "$tmp/out" "would be accepted +yes"
same "m2 dry run leaves the state" "$(checksum "$m2")" "$before"
run 0 "m2 capacity from alpha" "$LETHE" train --mechanism m2 --data "$tmp/data.csv" --id-col 0 \
    --norm normalize --lambda 1 --alpha 0.5 --seed $SEED --model "$tmp/alpha.state"
has "m2 capacity from alpha" "$tmp/out" "capacity m +[1-9][0-9]* "
run 1 "m2 alpha and capacity" "$LETHE" train --mechanism m2 $m2data --alpha 0.05 --capacity 3 \
    --model "$tmp/x.state"
run 0 "m2 forget" "$LETHE" forget --model "$m2" $m2data 1003 1004
has "m2 forget" "$tmp/out" "records removed +2$"
has "m2 forget" "$tmp/out" "capacity used +2$"
run 3 "m2 forget removed id" "$LETHE" forget --model "$m2" $m2data 1003
run 3 "m2 forget id not in data" "$LETHE" forget --model "$m2" $m2data 99999
# the same ids with other features: not the records trained on
run 3 "m2 forget other records" "$LETHE" forget --model "$m2" $data --norm normalize --R 2 1005
before=$(checksum "$m2")
run 4 "m2 forget beyond capacity" "$LETHE" forget --model "$m2" $m2data 1005 1006
has "m2 forget beyond capacity" "$tmp/err" "capacity"
same "m2 refusal leaves the state" "$(checksum "$m2")" "$before"
run 0 "m2 forget last" "$LETHE" forget --model "$m2" $m2data --json 1005
has "m2 forget last" "$tmp/out" '"used": 3, "capacity": 3'
run 0 "m2 predict" "$LETHE" predict --model "$m2" $m2data
same "m2 predict lines" "$(wc -l <"$tmp/out" | tr -d ' ')" 300
run 0 "m2 evaluate" "$LETHE" predict --model "$m2" $m2data --evaluate
has "m2 evaluate" "$tmp/out" "^accuracy +[0-9.]+ %$"
run 1 "m2 refresh" "$LETHE" refresh --model "$m2"
run 1 "m1 forget with data" "$LETHE" forget --model "$state" $data 1070

# ── mechanism M3 (the default): a secret noise-free state, fresh releases ───
m3="$tmp/m3.state"
m3pub="$tmp/m3.public"
run 0 "m3 train" "$LETHE" train $data --seed $SEED --model "$m3" --public "$m3pub"
for field in "^mechanism +M3 \(noise-free secret state, fresh lattice release per publication\)$" \
    "records n +300$" "features d +5$" "λ +0\.0001 per record" "ε +1 per release" \
    "δ +1e-05 per release" "Δ_max +0\.03 \(weights, L2\)" "release sensitivity Δ +[0-9.e+-]+ " \
    "noise σ +[0-9.e+-]+ per weight" "noise sampler +lattice-gaussian-int64" \
    "δ spent on the sampler" "DP releases +no$" "releases +1 published so far" \
    "ε of the history +1 at δ = 1e-05" \
    "guaranteed capacity +[0-9]+ guaranteed: removals of any records without a re-anchor" \
    "capacity estimate +[0-9]+ " "training time +[0-9.e+-]+ s" \
    "train acc. \(release\) +[0-9.]+ %" "seeded noise .* yes"; do
    has "m3 train report" "$tmp/out" "$field"
done
test "$(stat -c %a "$m3")" = 600 && ok || bad "the M3 state file is not private (mode 600)"
grep -q "^sampler lattice-gaussian-int64" "$m3pub" && ok || bad "m3 public file names the sampler"
run 0 "m3 train json" "$LETHE" train --mechanism m3 $data --seed $SEED --model "$tmp/m3j.state" --json
has "m3 train json" "$tmp/out" '^\{"mechanism": "M3 \(noise-free.*"releases": 1, .*"train_accuracy": 0\.[0-9]+'
json_ok "m3 train json" "$tmp/out"
run 0 "m3 epsilon above 1" "$LETHE" train $data --epsilon 2.5 --model "$tmp/m3e.state"
has "m3 epsilon above 1" "$tmp/out" "ε +2\.5 per release"
run 0 "m3 capacity" "$LETHE" capacity --model "$m3"
for field in "^mechanism +M3 " "Δ_max +0\.03 " "distance now +[0-9.e+-]+ \(weights, L2; owner's\)" \
    "μ of the history" "ε cap +none" "releases left +no limit" "public model fresh +yes" \
    "unpublished removals +0 " "re-anchors +0 " "extra Newton steps +0 "; do
    has "m3 capacity" "$tmp/out" "$field"
done
run 0 "m3 status" "$LETHE" status --model "$m3" --json
has "m3 status" "$tmp/out" '"mechanism": "M3 .*"releases": 1, .*"fresh": true'
json_ok "m3 status" "$tmp/out"

# forget publishes a fresh release (the public file changes)
cp "$m3pub" "$tmp/m3.public.0"
run 0 "m3 forget" "$LETHE" forget --model "$m3" --public "$m3pub" 1003 1004
for field in "^mechanism +M3 " "records removed +2$" "Newton steps +[1-9][0-9]* " "re-anchors +[0-9]+ " \
    "distance bound +[0-9.e+-]+ \(weights, L2; owner's\) <= Δ_max = 0\.03" "certified +yes" \
    "time +[0-9.e+-]+ ms" "published +yes" "release +2 " "ids it certifies +2 " \
    "ε of the history +[0-9.]+ at δ = 1e-05"; do
    has "m3 forget" "$tmp/out" "$field"
done
cmp -s "$m3pub" "$tmp/m3.public.0" && bad "m3 forget did not publish a new model" || ok
run 3 "m3 forget removed id" "$LETHE" forget --model "$m3" 1003
run 3 "m3 forget unknown id" "$LETHE" forget --model "$m3" 99999
# --no-publish: the public model keeps the record until 'lethe publish'
cp "$m3pub" "$tmp/m3.public.1"
run 0 "m3 forget --no-publish" "$LETHE" forget --model "$m3" --public "$m3pub" --no-publish 1010
has "m3 forget --no-publish" "$tmp/out" "published +no$"
has "m3 forget --no-publish" "$tmp/out" "still in the.*public model until 'lethe publish"
cmp -s "$m3pub" "$tmp/m3.public.1" && ok || bad "forget --no-publish changed the public model"
run 0 "m3 forget --no-publish json" "$LETHE" forget --model "$m3" --no-publish --json 1011
has "m3 forget --no-publish json" "$tmp/out" '"published": false, "unpublished": 2\}$'
run 0 "m3 capacity unpublished" "$LETHE" capacity --model "$m3" --json
has "m3 capacity unpublished" "$tmp/out" '"fresh": false, "unpublished": 2,'
run 0 "m3 publish" "$LETHE" publish --model "$m3" --public "$m3pub"
has "m3 publish" "$tmp/out" "release +3 "
has "m3 publish" "$tmp/out" "ids it certifies +2 "
cmp -s "$m3pub" "$tmp/m3.public.1" && bad "publish did not change the public model" || ok
run 0 "m3 capacity published" "$LETHE" capacity --model "$m3" --json
has "m3 capacity published" "$tmp/out" '"releases": 3, .*"fresh": true, "unpublished": 0,'
# dry run: the owner's numbers, and nothing changes
dry_run "m3 dry run" "$m3" 1020 1021
has "m3 dry run" "$tmp/out" "Newton steps +[1-9]"
run 0 "m3 predict" "$LETHE" predict --model "$m3" $data --evaluate
has "m3 predict" "$tmp/out" "^accuracy +[0-9.]+ %$"
# refresh: retrain θ, then a fresh release (or none with --no-publish)
cp "$m3pub" "$tmp/m3.public.2"
run 0 "m3 refresh --no-publish" "$LETHE" refresh --model "$m3" --public "$m3pub" --no-publish
has "m3 refresh --no-publish" "$tmp/out" "published +no$"
cmp -s "$m3pub" "$tmp/m3.public.2" && ok || bad "refresh --no-publish changed the public model"
run 0 "m3 refresh" "$LETHE" refresh --model "$m3" --public "$m3pub"
for field in "records n +296$" "refreshes +2$" "distance now +[0-9.e+-]+ " "published +yes" \
    "release +4 "; do
    has "m3 refresh" "$tmp/out" "$field"
done
cmp -s "$m3pub" "$tmp/m3.public.2" && bad "refresh did not publish" || ok
run 3 "m3 removed ids are gone after refresh" "$LETHE" forget --model "$m3" 1003

# the ε cap: release 1 fits, release 2 does not; a refused forget changes nothing
cap="$tmp/cap.state"
run 0 "m3 train with a cap" "$LETHE" train $data --epsilon-cap 1.2 --model "$cap" --public "$tmp/cap.public"
has "m3 train with a cap" "$tmp/out" "ε cap +1\.2 "
has "m3 train with a cap" "$tmp/out" "releases left +0 under the cap"
before=$(checksum "$cap")
pub_before=$(checksum "$tmp/cap.public")
run 4 "m3 forget over the cap" "$LETHE" forget --model "$cap" --public "$tmp/cap.public" 1003
has "m3 forget over the cap" "$tmp/err" "above the cap"
has "m3 forget over the cap" "$tmp/err" "nothing was removed: .*--no-publish"
run 4 "m3 dry run over the cap" "$LETHE" forget --model "$cap" --dry-run 1003
has "m3 dry run over the cap" "$tmp/err" "publication would be refused"
run 4 "m3 refresh over the cap" "$LETHE" refresh --model "$cap" --public "$tmp/cap.public"
same "refused m3 forget leaves the state" "$(checksum "$cap")" "$before"
same "refused m3 forget leaves the public model" "$(checksum "$tmp/cap.public")" "$pub_before"
run 1 "m3 cap below the first release" "$LETHE" train $data --epsilon-cap 0.5 --model "$tmp/x.state"
has "m3 cap below the first release" "$tmp/err" "below ε of the first release"
run 0 "m3 --no-publish under the cap" "$LETHE" forget --model "$cap" --no-publish 1003
before=$(checksum "$cap")
run 4 "m3 publish over the cap" "$LETHE" publish --model "$cap" --public "$tmp/cap.public"
has "m3 publish over the cap" "$tmp/err" "nothing was published"
same "refused publish leaves the state" "$(checksum "$cap")" "$before"
same "refused publish leaves the public model" "$(checksum "$tmp/cap.public")" "$pub_before"

# DP releases: a floor on the records a release may have
dp="$tmp/dp.state"
run 0 "m3 dp train" "$LETHE" train $data --norm normalize --dp-releases --dp-min-records 299 \
    --model "$dp"
has "m3 dp train" "$tmp/out" "DP releases +yes$"
has "m3 dp train" "$tmp/out" "DP floor +299 "
has "m3 dp train" "$tmp/out" "ERM sensitivity +[0-9.e+-]+ "
run 0 "m3 dp forget" "$LETHE" forget --model "$dp" 1003
before=$(checksum "$dp")
run 4 "m3 dp forget below the floor" "$LETHE" forget --model "$dp" 1004
has "m3 dp forget below the floor" "$tmp/err" "DP releases were calibrated"
same "refused dp forget leaves the state" "$(checksum "$dp")" "$before"

# options of another mechanism, and what only M3 has
run 1 "m3 with --budget" "$LETHE" train $data --budget 1 --model "$tmp/x.state"
has "m3 with --budget" "$tmp/err" "--budget is an option of --mechanism guo, not of m3"
run 1 "m3 with --sigma" "$LETHE" train --mechanism m3 $data --sigma 1 --model "$tmp/x.state"
run 1 "m3 with --capacity" "$LETHE" train $data --capacity 5 --model "$tmp/x.state"
has "m3 with --capacity" "$tmp/err" "--capacity is an option of --mechanism m2"
run 1 "guo with --delta-max" "$LETHE" train --mechanism guo $data --budget 1 --delta-max 0.1 \
    --model "$tmp/x.state"
has "guo with --delta-max" "$tmp/err" "--delta-max is an option of --mechanism m3, not of guo"
run 1 "guo with --epsilon-cap" "$LETHE" train --mechanism guo $data --budget 1 --epsilon-cap 2 \
    --model "$tmp/x.state"
run 1 "m2 with --dp-releases" "$LETHE" train --mechanism m2 $m2data --dp-releases --model "$tmp/x.state"
run 1 "m2 with --newton-extra" "$LETHE" train --mechanism m2 $m2data --newton-extra 2 \
    --model "$tmp/x.state"
run 1 "dp floor without dp" "$LETHE" train $data --dp-min-records 10 --model "$tmp/x.state"
run 1 "dp with a measured R" "$LETHE" train $data --dp-releases --model "$tmp/x.state"
run 1 "dp with the squared loss" "$LETHE" train $data --norm normalize --dp-releases \
    --loss squared --model "$tmp/x.state"
run 1 "delta-max 0" "$LETHE" train $data --delta-max 0 --model "$tmp/x.state"
run 1 "newton-extra -1" "$LETHE" train $data --newton-extra -1 --model "$tmp/x.state"
run 1 "epsilon-cap text" "$LETHE" train $data --epsilon-cap lots --model "$tmp/x.state"
run 1 "unknown mechanism" "$LETHE" train --mechanism m4 $data --model "$tmp/x.state"
run 1 "no-publish to train" "$LETHE" train $data --no-publish --model "$tmp/x.state"
test ! -e "$tmp/x.state" && ok || bad "a mechanism mismatch wrote a state"
run 0 "m1 is guo's alias" "$LETHE" train --mechanism m1 $data --budget 0.5 --model "$tmp/m1.state"
has "m1 is guo's alias" "$tmp/out" "^mechanism +guo \(Guo et al\. 2020"
has "m1 is guo's alias" "$tmp/out" "λ +0\.001 per record"
# publish and --no-publish are for M3
before=$(checksum "$state")
run 1 "publish a guo model" "$LETHE" publish --model "$state"
has "publish a guo model" "$tmp/err" "guo model"
run 1 "forget --no-publish on guo" "$LETHE" forget --model "$state" --no-publish 1070
run 1 "refresh --no-publish on guo" "$LETHE" refresh --model "$state" --no-publish
same "publish on guo leaves the state" "$(checksum "$state")" "$before"
run 1 "publish an m2 model" "$LETHE" publish --model "$m2"
run 1 "publish without a model" "$LETHE" publish

# ── keygen and verify: deletion certificates ────────────────────────────────
# tests/data/ledger holds three certificates (M1, M1 seeded, M2) written by
# lethe_cert_write in format lethe-certificate-1; a verifier must go on
# accepting them, and say that guo's (M1's) are Guo et al.'s idealised statement.
fixture=$(dirname "$0")/data
owner="$fixture/ledger-owner.pub"
run 0 "keygen" "$LETHE" keygen --secret "$tmp/owner.key" --public "$tmp/owner.pub"
test "$(stat -c %a "$tmp/owner.key")" = 600 && ok || bad "the secret key file is not private (mode 600)"
has "keygen public" "$tmp/owner.pub" "^lethe-ed25519-public [0-9a-f]{64}$"
before=$(checksum "$tmp/owner.key")
run 5 "keygen never replaces" "$LETHE" keygen --secret "$tmp/owner.key" --public "$tmp/o2.pub"
has "keygen never replaces" "$tmp/err" "never replaced"
same "keygen keeps the key" "$(checksum "$tmp/owner.key")" "$before"
test ! -e "$tmp/o2.pub" && ok || bad "a refused keygen wrote a public key"
run 1 "keygen without public" "$LETHE" keygen --secret "$tmp/x.key"
run 0 "keygen json" "$LETHE" keygen --secret "$tmp/j.key" --public "$tmp/j.pub" --json
has "keygen json" "$tmp/out" '^\{"secret": ".*", "public": ".*"\}$'

cp -R "$fixture/ledger" "$tmp/ledger"
lg="$tmp/ledger"
run 0 "verify ledger" "$LETHE" verify --ledger "$lg" --key "$owner" --model "$fixture/ledger-model.txt"
for field in "verified +yes$" "certificates passed +3$" "signer pinned +yes$" \
    "model matches +yes$" "seeded test noise +yes$" \
    "^mechanism +guo \(Guo et al\. 2020 .*\); M2 \(data-free" \
    "^idealised statement +yes$" "^ +\(guo: Guo et al\.'s idealised statement, not a proven guarantee"; do
    has "verify report" "$tmp/out" "$field"
done
has "verify report" "$tmp/out" "^ledger tail checked +yes$"
run 0 "verify unpinned" "$LETHE" verify --ledger "$lg"
has "verify unpinned" "$tmp/out" "signer pinned +no$"
has "verify unpinned" "$tmp/out" "no --key"
# without the model a deleted last certificate leaves a shorter ledger that
# checks: the output must say the tail was not checked
has "verify unpinned" "$tmp/out" "^ledger tail checked +no$"
mkdir "$tmp/short-ledger"
cp "$lg/00000001.json" "$lg/00000002.json" "$tmp/short-ledger/"
run 0 "verify a ledger cut short" "$LETHE" verify --ledger "$tmp/short-ledger" --key "$owner"
has "verify a ledger cut short" "$tmp/out" "^ledger tail checked +no$"
has "verify a ledger cut short" "$tmp/out" "a deleted last certificate cannot be"
run 6 "verify a ledger cut short, with the model" "$LETHE" verify --ledger "$tmp/short-ledger" \
    --key "$owner" --model "$fixture/ledger-model.txt"
run 0 "verify one certificate" "$LETHE" verify --cert "$lg/00000002.json" --key "$owner"
has "verify one certificate" "$tmp/out" "last seq passed +2$"
has "verify one certificate" "$tmp/out" "^mechanism +guo \(Guo et al\. 2020 loss perturbation: their idealised statement"
# the M2 certificate alone: not guo's, and not labelled so
run 0 "verify one m2 certificate" "$LETHE" verify --cert "$lg/00000003.json" --key "$owner"
has "verify one m2 certificate" "$tmp/out" "^mechanism +M2 \(data-free, Sekhari et al\. 2021\)$"
has "verify one m2 certificate" "$tmp/out" "^idealised statement +no$"
run 0 "verify json" "$LETHE" verify --ledger "$lg" --key "$owner" --json
has "verify json" "$tmp/out" '^\{"verified": true, "certificates": 3, "last_seq": 3, .*"pinned": true'
has "verify json" "$tmp/out" '"mechanism": "guo \(.*\); M2 \(.*\)", "idealised": true, '
json_ok "verify json" "$tmp/out"
json_ok "certificate" "$lg/00000001.json"

run 6 "verify wrong key" "$LETHE" verify --ledger "$lg" --key "$tmp/owner.pub"
has "verify wrong key" "$tmp/err" "^lethe: verify: .*00000001.json: signer:"
has "verify wrong key" "$tmp/out" "failed check +signer$"
run 6 "verify other model" "$LETHE" verify --ledger "$lg" --key "$owner" --model "$tmp/data.csv"
has "verify other model" "$tmp/err" ": model: "
# a number changed to another well-formed one: the signature catches it
sed 's/"d": 5,/"d": 6,/' "$fixture/ledger/00000002.json" >"$lg/00000002.json"
run 6 "verify edited number" "$LETHE" verify --ledger "$lg" --key "$owner"
has "verify edited number" "$tmp/err" "00000002.json: signature:"
run 6 "verify edited json" "$LETHE" verify --ledger "$lg" --key "$owner" --json
has "verify edited json" "$tmp/out" '"verified": false, "failed_check": "signature", "failed_seq": 2,'
json_ok "verify edited json" "$tmp/out"
# the middle certificate deleted
rm "$lg/00000002.json"
run 6 "verify gap" "$LETHE" verify --ledger "$lg" --key "$owner"
has "verify gap" "$tmp/err" "00000002.json: chain: missing"
# truncated, and bad escapes
head -c 300 "$fixture/ledger/00000001.json" >"$tmp/trunc.json"
run 6 "verify truncated" "$LETHE" verify --cert "$tmp/trunc.json"
has "verify truncated" "$tmp/err" ": parse: "
sed 's/box-muller/box\\xmuller/' "$fixture/ledger/00000001.json" >"$tmp/escape.json"
run 6 "verify bad escape" "$LETHE" verify --cert "$tmp/escape.json"
has "verify bad escape" "$tmp/err" "bad escape"
run 1 "verify cert and ledger" "$LETHE" verify --cert "$tmp/trunc.json" --ledger "$lg"
run 1 "verify nothing" "$LETHE" verify --key "$owner"
run 2 "verify missing file" "$LETHE" verify --cert "$tmp/none.json"
run 2 "verify bad key file" "$LETHE" verify --ledger "$fixture/ledger" --key "$tmp/data.csv"

# ── predict ─────────────────────────────────────────────────────────────────
run 0 "predict" "$LETHE" predict --model "$state" $data
same "predict lines" "$(wc -l <"$tmp/out" | tr -d ' ')" 300
has "predict format" "$tmp/out" "^1000 [+-]1 [01]\.[0-9]{6}$"
run 0 "predict json" "$LETHE" predict --model "$state" $data --json
has "predict json" "$tmp/out" '^  \{"id": 1299, "label": -?1, "probability": [0-9.e-]+\}$'
run 0 "predict evaluate" "$LETHE" predict --model "$state" $data --evaluate
has "predict evaluate" "$tmp/out" "^accuracy +[0-9.]+ %$"
acc=$(sed -n 's/^accuracy *\([0-9]*\)\..*/\1/p' "$tmp/out")
test "${acc:-0}" -ge 75 && ok || bad "accuracy ${acc:-?} % < 75 %"
run 0 "predict evaluate json" "$LETHE" predict --model "$state" $data --evaluate --json
has "predict evaluate json" "$tmp/out" '^\{"accuracy": 0\.[0-9]+\}$'
awk -F, 'NR > 1 { print $1 "," $2 "," $3 "," $7 }' "$tmp/data.csv" >"$tmp/narrow.csv"
run 2 "predict wrong dimension" \
    "$LETHE" predict --model "$state" --data "$tmp/narrow.csv" --id-col 0
run 2 "predict malformed" "$LETHE" predict --model "$state" --data "$tmp/ragged.csv" --id-col 0

# squared loss: values and RMSE
run 0 "train squared" "$LETHE" train --mechanism guo $data --loss squared --lambda 0.01 --sigma 0.1 \
    --seed $SEED --model "$tmp/sq.state"
has "train squared" "$tmp/out" "training RMSE"
run 0 "predict squared" "$LETHE" predict --model "$tmp/sq.state" $data
has "predict squared" "$tmp/out" "^1000 -?[0-9.e+-]+$"
run 0 "evaluate squared" "$LETHE" predict --model "$tmp/sq.state" $data --evaluate
has "evaluate squared" "$tmp/out" "^RMSE +[0-9.e+-]+"

# smooth hinge and Huber (M3): train, forget with a certificate, predict, verify
for loss in smooth-hinge huber; do
    lw="$tmp/ws-$loss"
    "$LETHE" init "$lw" >/dev/null
    run 0 "train $loss" "$LETHE" train --workspace "$lw" $data --loss $loss --seed $SEED --json
    has "train $loss" "$tmp/out" "\"loss\": \"$loss\""
    run 0 "forget $loss" "$LETHE" forget --workspace "$lw" 1003 1010
    has "forget $loss" "$tmp/out" "^certified +yes"
    run 0 "verify $loss" "$LETHE" verify --workspace "$lw"
    grep -q "\"loss\": \"$loss\"" "$lw"/ledger/00000001.json && ok ||
        bad "$loss: the certificate does not name the loss"
    run 0 "predict $loss" "$LETHE" predict --workspace "$lw" $data --json
    run 0 "evaluate $loss" "$LETHE" predict --workspace "$lw" $data --evaluate
done
has "predict huber" "$tmp/out" "^RMSE +[0-9.e+-]+"
run 0 "predict smooth-hinge labels" "$LETHE" predict --workspace "$tmp/ws-smooth-hinge" $data
has "predict smooth-hinge labels" "$tmp/out" "^1000 [+-]1$"
run 0 "smooth-hinge dp releases" "$LETHE" train $data --loss smooth-hinge --norm normalize \
    --dp-releases --model "$tmp/x.state"
run 1 "unknown loss" "$LETHE" train $data --loss hinge --model "$tmp/x.state"
has "unknown loss" "$tmp/err" "--loss 'hinge': not logistic, squared, smooth-hinge or huber"
run 1 "guo with huber" "$LETHE" train --mechanism guo $data --loss huber --budget 1 \
    --model "$tmp/x.state"
has "guo with huber" "$tmp/err" "guo supports the logistic and squared losses only"
run 1 "m2 with smooth hinge" "$LETHE" train --mechanism m2 $m2data --loss smooth-hinge \
    --capacity 3 --model "$tmp/x.state"

# ── feature maps and the intercept ──────────────────────────────────────────
fseed=0102030405060708091011121314151617181920212223242526272829303132
for map in "--features rff:64:2 --features-seed $fseed" "--features relu:48 --bias 0.5" \
           "--bias 1" "--features rff:64:2 --features-input sqrt"; do
    fw="$tmp/ws-map"
    rm -rf "$fw"
    "$LETHE" init "$fw" >/dev/null
    # shellcheck disable=SC2086
    run 0 "train $map" "$LETHE" train --workspace "$fw" $data --norm normalize $map --seed $SEED \
        --json
    has "train $map" "$tmp/out" '"features": "(rff|relu|none) in=5 '
    case $map in
    *sqrt*) has "train $map" "$tmp/out" '"features": "rff in=5 input=sqrt dim=64 ' ;;
    esac
    run 0 "forget with $map" "$LETHE" forget --workspace "$fw" 1001
    run 0 "verify with $map" "$LETHE" verify --workspace "$fw"
    grep -q '"features": "' "$fw"/ledger/00000001.json && ok || bad "$map: no features in the certificate"
    run 0 "evaluate with $map" "$LETHE" evaluate --workspace "$fw" $data --norm normalize
    has "evaluate with $map" "$tmp/out" "^accuracy +[0-9.]+ %"
done
# the seed given is the one recorded
"$LETHE" init "$tmp/ws-rff" >/dev/null
run 0 "train rff seed" "$LETHE" train --workspace "$tmp/ws-rff" $data --norm normalize \
    --features rff:32 --features-seed $fseed
has "train rff seed" "$tmp/out" "^feature map +rff in=5 dim=32 gamma=1 seed=$fseed norm=1$"
has "train rff seed" "$tmp/out" "^weights +32$"
# a declared map: the records are phi(x); its file's hash is checked at prediction
printf 'a public network, version 1\n' >"$tmp/map.def"
printf 'another network\n' >"$tmp/other.def"
"$LETHE" init "$tmp/ws-decl" >/dev/null
run 0 "train declared" "$LETHE" train --workspace "$tmp/ws-decl" $data --features-file "$tmp/map.def"
has "train declared" "$tmp/out" "^feature map +declared in=5 identity=[0-9a-f]{64}$"
run 0 "predict declared, same file" "$LETHE" predict --workspace "$tmp/ws-decl" $data \
    --features-file "$tmp/map.def"
run 2 "predict declared, other file" "$LETHE" predict --workspace "$tmp/ws-decl" $data \
    --features-file "$tmp/other.def"
has "predict declared, other file" "$tmp/err" "its hash does not match the model's declared map"
run 2 "predict without a declared map" "$LETHE" predict --workspace "$tmp/ws-rff" $data \
    --norm normalize --features-file "$tmp/map.def"
run 2 "features-file missing" "$LETHE" train $data --features-file "$tmp/nowhere" \
    --model "$tmp/x.state"
# bad input
run 1 "features D = 0" "$LETHE" train $data --features rff:0 --model "$tmp/x.state"
has "features D = 0" "$tmp/err" "D must be a number of features in \[1, 1048576\]"
run 1 "features unknown" "$LETHE" train $data --features sigmoid:5 --model "$tmp/x.state"
has "features unknown" "$tmp/err" "not rff:D\[:GAMMA\] or relu:D"
run 1 "features relu with gamma" "$LETHE" train $data --features relu:5:2 --model "$tmp/x.state"
run 1 "features gamma 0" "$LETHE" train $data --features rff:5:0 --model "$tmp/x.state"
run 1 "features seed alone" "$LETHE" train $data --features-seed $fseed --model "$tmp/x.state"
run 1 "features seed short" "$LETHE" train $data --features rff:4 --features-seed 12 \
    --model "$tmp/x.state"
run 1 "features and file" "$LETHE" train $data --features rff:4 --features-file "$tmp/map.def" \
    --model "$tmp/x.state"
run 1 "bias 0" "$LETHE" train $data --bias 0 --model "$tmp/x.state"
run 1 "features-input unknown" "$LETHE" train $data --features rff:4 --features-input cbrt \
    --model "$tmp/x.state"
has "features-input unknown" "$tmp/err" "'cbrt' is not one of raw, sqrt"
run 1 "m2 with features-input" "$LETHE" train --mechanism m2 $m2data --features-input sqrt \
    --capacity 3 --model "$tmp/x.state"
has "m2 with features-input" "$tmp/err" "M2 has no feature map or intercept \(--features-input\)"
run 1 "m2 with a bias" "$LETHE" train --mechanism m2 $m2data --bias 1 --capacity 3 \
    --model "$tmp/x.state"
has "m2 with a bias" "$tmp/err" "M2 has no feature map or intercept"

# ── one-vs-rest: --classes all, or a list of three or more ──────────────────
make_multi_csv "$tmp/multi.csv" 2385 400 5000
mdata="--data $tmp/multi.csv --id-col 0 --norm normalize"
mw="$tmp/ws-multi"
"$LETHE" init "$mw" >/dev/null
# shellcheck disable=SC2086
run 0 "train one-vs-rest" "$LETHE" train --workspace "$mw" $mdata --classes all --lambda 0.001 \
    --seed $SEED
has "train one-vs-rest" "$tmp/out" "^classes \(one-vs-rest\) +4$"
has "train one-vs-rest" "$tmp/out" "^class labels +0,1,2,3$"
has "train one-vs-rest" "$tmp/out" "^weights +20$"
# shellcheck disable=SC2086
run 0 "forget one-vs-rest" "$LETHE" forget --workspace "$mw" 5003 5010
has "forget one-vs-rest" "$tmp/out" "^certified +yes"
run 0 "verify one-vs-rest" "$LETHE" verify --workspace "$mw"
grep -q '"classes": 4,' "$mw"/ledger/00000001.json && grep -q '"d": 20,' "$mw"/ledger/00000001.json &&
    ok || bad "one-vs-rest: the certificate does not say classes 4, d 20"
grep -q "^class_labels 0 1 2 3$" "$mw"/model.00000002.public && ok ||
    bad "one-vs-rest: the public model does not name its classes"
# shellcheck disable=SC2086
run 0 "predict one-vs-rest" "$LETHE" predict --workspace "$mw" $mdata --classes all
has "predict one-vs-rest" "$tmp/out" "^5000 [0-3] 0\.[0-9]+$"
# shellcheck disable=SC2086
run 0 "evaluate one-vs-rest" "$LETHE" evaluate --workspace "$mw" $mdata --classes all --json
has "evaluate one-vs-rest" "$tmp/out" '"accuracy": 0\.[6-9]'
run 3 "forget one-vs-rest again" "$LETHE" forget --workspace "$mw" 5003
run 0 "refresh one-vs-rest" "$LETHE" refresh --workspace "$mw"
# a list keeps those classes only
"$LETHE" init "$tmp/ws-list" >/dev/null
# shellcheck disable=SC2086
run 0 "train a class list" "$LETHE" train --workspace "$tmp/ws-list" $mdata --classes 3,0,2 \
    --lambda 0.001
has "train a class list" "$tmp/out" "^class labels +0,2,3$"
# bad input
# shellcheck disable=SC2086
run 1 "one-vs-rest squared" "$LETHE" train $mdata --classes all --loss squared --model "$tmp/x.state"
has "one-vs-rest squared" "$tmp/err" "is a regression"
# shellcheck disable=SC2086
run 1 "one-vs-rest guo" "$LETHE" train --mechanism guo $mdata --classes all --budget 1 \
    --model "$tmp/x.state"
# shellcheck disable=SC2086
run 1 "one-vs-rest m2" "$LETHE" train --mechanism m2 $mdata --classes all --model "$tmp/x.state"
for bad in "1,2," "1,1,2" "1,x,2" ",1,2"; do
    # shellcheck disable=SC2086
    run 1 "classes '$bad'" "$LETHE" train $mdata --classes "$bad" --model "$tmp/x.state"
done
# shellcheck disable=SC2086
run 2 "one-vs-rest on two labels" "$LETHE" train $data --classes all --model "$tmp/x.state"
has "one-vs-rest on two labels" "$tmp/err" "one-vs-rest needs 3"

# ── difficulty: how hard records are to forget, before forgetting them ─────
"$LETHE" train $data --seed $SEED --model "$tmp/d.state" >/dev/null
before=$(sha256sum <"$tmp/d.state")
run 0 "difficulty ids" "$LETHE" difficulty --model "$tmp/d.state" 1004 1007
has "difficulty ids" "$tmp/out" "^influence +\|H\^-1 g_-i\|"
has "difficulty ids" "$tmp/out" " +1 +1004 +[0-9.e+-]+ +[0-9.e+-]+ +[0-9.]+ % +[0-9]+ +[0-9]+ +[0-9.]+$"
run 0 "difficulty top" "$LETHE" difficulty --model "$tmp/d.state" --top 5 --json
json_ok "difficulty top" "$tmp/out"
has "difficulty top" "$tmp/out" '"records": \[\{"id": 1[0-9]{3}, "influence": [0-9.e+-]+, "distance": '
test "$(grep -o '"id": ' "$tmp/out" | wc -l)" = 5 && ok || bad "difficulty --top 5: not 5 records"
run 0 "difficulty rank only" "$LETHE" difficulty --model "$tmp/d.state" --top 300 --rank-only --json
test "$(grep -o '"id": ' "$tmp/out" | wc -l)" = 300 && ok || bad "difficulty --top 300: not 300"
grep -q '"distance"' "$tmp/out" && bad "--rank-only made dry runs" || ok
# the hardest record first: the same as asking for it alone
top1=$(sed -n 's/.*"records": \[{"id": \([0-9]*\), "influence": \([0-9.e+-]*\).*/\1 \2/p' "$tmp/out")
run 0 "difficulty hardest alone" "$LETHE" difficulty --model "$tmp/d.state" ${top1% *} --json
has "difficulty hardest alone" "$tmp/out" "\"influence\": ${top1#* },"
printf '1010\n1011\n' | { "$LETHE" difficulty --model "$tmp/d.state" - >"$tmp/out" 2>"$tmp/err" \
    && ok || bad "difficulty ids from stdin"; }
has "difficulty ids from stdin" "$tmp/out" " 1011 "
run 0 "difficulty one-vs-rest" "$LETHE" difficulty --workspace "$mw" --top 2
has "difficulty one-vs-rest" "$tmp/out" "^hardest records"
test "$(sha256sum <"$tmp/d.state")" = "$before" && ok || bad "difficulty changed the state"
# bad input, nothing changed
run 3 "difficulty unknown id" "$LETHE" difficulty --model "$tmp/d.state" 99999
has "difficulty unknown id" "$tmp/err" "no record has id 99999"
run 1 "difficulty nothing asked" "$LETHE" difficulty --model "$tmp/d.state"
run 1 "difficulty ids and top" "$LETHE" difficulty --model "$tmp/d.state" --top 2 1004
run 1 "difficulty top 0" "$LETHE" difficulty --model "$tmp/d.state" --top 0
run 1 "difficulty on M2" "$LETHE" difficulty --model "$m2" 1004
has "difficulty on M2" "$tmp/err" "M2 state keeps no records"
test "$(sha256sum <"$tmp/d.state")" = "$before" && ok || bad "a refused difficulty changed the state"

# ── LIBSVM: the records of data.csv, read back identically ──────────────────
# (without the id column: ids are then the record numbers in either format)
awk -F, 'NR > 1 {
    printf "%d", $7
    for (j = 2; j <= 6; j++) if ($j + 0 != 0) printf " %d:%s", j - 1, $j
    printf "\n"
}' "$tmp/data.csv" >"$tmp/data.svm"
awk -F, 'NR > 1 { print $2 "," $3 "," $4 "," $5 "," $6 "," $7 }' "$tmp/data.csv" >"$tmp/noid.csv"
run 0 "libsvm train" "$LETHE" train --mechanism guo --data "$tmp/data.svm" --budget 0.5 --seed $SEED \
    --model "$tmp/svm.state"
has "libsvm train" "$tmp/out" "records n +300$"
has "libsvm train" "$tmp/out" "features d +5$"
run 0 "csv train without ids" "$LETHE" train --mechanism guo --data "$tmp/noid.csv" --budget 0.5 --seed $SEED \
    --model "$tmp/noid.state"
run 0 "libsvm predict" "$LETHE" predict --model "$tmp/svm.state" --data "$tmp/data.svm"
cp "$tmp/out" "$tmp/pred-svm"
run 0 "csv predict without ids" "$LETHE" predict --model "$tmp/noid.state" --data "$tmp/noid.csv"
cmp -s "$tmp/out" "$tmp/pred-svm" && ok || bad "LIBSVM and CSV of the same records differ"
gzip -c "$tmp/data.svm" >"$tmp/data.svm.gz"
run 0 "libsvm gzip" "$LETHE" predict --model "$tmp/svm.state" --data "$tmp/data.svm.gz"
cmp -s "$tmp/out" "$tmp/pred-svm" && ok || bad "gzip-compressed LIBSVM reads differently"
# a test set whose largest index is below d is read with the model's d
printf '1 1:0.5 2:-0.25\n-1 3:0.125 # a comment\n' >"$tmp/short.svm"
run 0 "libsvm predict with the model's d" \
    "$LETHE" predict --model "$tmp/svm.state" --data "$tmp/short.svm"
same "libsvm short predict lines" "$(wc -l <"$tmp/out" | tr -d ' ')" 2
printf '1 1:0.5 6:1\n' >"$tmp/wide.svm"
run 2 "libsvm index beyond the model's d" \
    "$LETHE" predict --model "$tmp/svm.state" --data "$tmp/wide.svm"
has "libsvm index beyond the model's d" "$tmp/err" "wide.svm: line 1, field 3: index 6 beyond"
printf '1 1:0.5\n-1 2:0.25 2:1\n' >"$tmp/twice.svm"
run 2 "libsvm repeated index" "$LETHE" train --mechanism guo --data "$tmp/twice.svm" --budget 1 \
    --model "$tmp/svmerr.state"
has "libsvm repeated index" "$tmp/err" \
    "^lethe: train: malformed file: .*twice.svm: line 2, field 3: index 2 appears twice"
printf '1 1:0.5\n-1 2:inf\n' >"$tmp/inf.svm"
run 2 "libsvm infinite value" "$LETHE" train --mechanism guo --data "$tmp/inf.svm" --budget 1 \
    --model "$tmp/svmerr.state"
cp "$tmp/data.svm" "$tmp/data.txt"
run 0 "--format libsvm --dim" "$LETHE" train --mechanism guo --data "$tmp/data.txt" --format libsvm --dim 7 \
    --budget 0.5 --seed $SEED --model "$tmp/svm7.state"
has "--format libsvm --dim" "$tmp/out" "features d +7$"
run 1 "libsvm with --labels" "$LETHE" train --mechanism guo --data "$tmp/data.svm" --labels "$tmp/data.svm" \
    --budget 1 --model "$tmp/x.state"
run 1 "libsvm with --id-col" "$LETHE" train --mechanism guo --data "$tmp/data.svm" --id-col 0 --budget 1 \
    --model "$tmp/x.state"
run 1 "--dim with csv" "$LETHE" train --mechanism guo --data "$tmp/noid.csv" --dim 5 --budget 1 \
    --model "$tmp/x.state"
run 1 "--dim 0" "$LETHE" train --mechanism guo --data "$tmp/data.svm" --dim 0 --budget 1 --model "$tmp/x.state"
run 0 "libsvm m2 train" "$LETHE" train --mechanism m2 --data "$tmp/data.svm" --norm normalize \
    --capacity 2 --seed $SEED --model "$tmp/svm-m2.state"
run 0 "libsvm m2 forget" "$LETHE" forget --model "$tmp/svm-m2.state" --data "$tmp/data.svm" \
    --norm normalize 1
run 3 "libsvm m2 forget other record" "$LETHE" forget --model "$tmp/svm-m2.state" \
    --data "$tmp/short.svm" --norm normalize 1
test ! -e "$tmp/svmerr.state" && ok || bad "libsvm data errors wrote a state"

# ── IDX: the Fashion-MNIST test set, when installed ─────────────────────────
fm=${LETHE_FMNIST:-/usr/share/datasets/fashion-mnist}
if [ -r "$fm/t10k-images-idx3-ubyte.gz" ] && [ -r "$fm/t10k-labels-idx1-ubyte.gz" ]; then
    idx="--data $fm/t10k-images-idx3-ubyte.gz --labels $fm/t10k-labels-idx1-ubyte.gz"
    run 0 "idx train" "$LETHE" train --mechanism guo $idx --classes 2,4 --norm normalize --budget 1 \
        --seed $SEED --model "$tmp/fm.state"
    has "idx train" "$tmp/out" "records n +2000$"
    has "idx train" "$tmp/out" "features d +784$"
    has "idx train" "$tmp/out" "row norm bound R +1$"
    run 0 "idx predict" "$LETHE" predict --model "$tmp/fm.state" $idx --classes 2,4 --norm normalize
    same "idx predict lines" "$(wc -l <"$tmp/out" | tr -d ' ')" 2000
    kept=$(awk 'NR == 1 { print $1 }' "$tmp/out")
    # the first record number that is neither a pullover nor a coat
    other=$(awk '{ seen[$1] = 1 } END { for (i = 0; i in seen; i++); print i }' "$tmp/out")
    run 0 "idx forget" "$LETHE" forget --model "$tmp/fm.state" "$kept"
    has "idx forget" "$tmp/out" "certified +yes"
    run 3 "idx forget other class" "$LETHE" forget --model "$tmp/fm.state" "$other"
    run 2 "idx labels of another file" "$LETHE" train --mechanism guo --data "$fm/t10k-images-idx3-ubyte.gz" \
        --labels "$fm/train-labels-idx1-ubyte.gz" --classes 2,4 --budget 1 --model "$tmp/x.state"
    has "idx labels of another file" "$tmp/err" "labels"
fi

finished=1
echo "cli: $pass passed, $fail failed"
test "$fail" -eq 0
