# Shared by the end-to-end scripts (cli.sh, workspace.sh, crash.sh): the
# pass/fail counters and checks, and the synthetic data set. Source it after
# setting tmp (a scratch directory). Safe under set -e.
# SPDX-License-Identifier: GPL-3.0-or-later

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run WANT LABEL CMD...: CMD must exit with WANT; its stdout is left in
# $tmp/out, its stderr in $tmp/err (shown when the check fails).
run() {
    want=$1 label=$2
    shift 2
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok
    else
        bad "$label: exit $rc, expected $want"
        sed 's/^/    /' "$tmp/err" | head -8
    fi
}

# has LABEL FILE PATTERN: FILE has a line matching PATTERN (grep -E).
has() {
    if grep -Eq -- "$3" "$2"; then
        ok
    else
        bad "$1: no /$3/ in $(basename "$2")"
        sed 's/^/    /' "$2" | head -8
    fi
}

# json_ok NAME FILE: FILE is one valid JSON document (when python3 is there).
json_ok() {
    if ! command -v python3 >/dev/null 2>&1; then ok; return; fi
    if python3 -m json.tool "$2" >/dev/null 2>&1; then ok; else bad "$1: not valid JSON"; fi
}

# make_csv FILE SEED N FIRST_ID NOISE C1 C2 …: N records with an id column
# (FIRST_ID, FIRST_ID + 1, …), one feature per coefficient in [-1, 1) from a
# linear congruential generator (exact in awk's doubles: 69069·2³² < 2⁵³),
# written with 4 decimals, and a label ±1: the sign of Σ Cj·xj + NOISE·u
# with u from the same generator (a planted linear model with some noise).
make_csv() {
    out=$1 seed=$2 n=$3 first=$4 noise=$5
    shift 5
    awk -v s="$seed" -v n="$n" -v first="$first" -v noise="$noise" -v coefs="$*" 'BEGIN {
        d = split(coefs, c, " ")
        printf "id"
        for (j = 1; j <= d; j++)
            printf ",x%d", j
        print ",y"
        for (i = 0; i < n; i++) {
            printf "%d", first + i
            t = 0
            for (j = 1; j <= d; j++) {
                s = (s * 69069 + 1) % 4294967296; x = 2 * s / 4294967296 - 1
                printf ",%.4f", x
                t += c[j] * x
            }
            s = (s * 69069 + 1) % 4294967296
            t += noise * (2 * s / 4294967296 - 1)
            printf ",%d\n", (t > 0) ? 1 : -1
        }
    }' >"$out"
}

# make_multi_csv OUT SEED N FIRST: N records (ids FIRST, FIRST + 1, …) of five
# features in [−0.5, 0.5) and a class 0…3, the largest of four fixed linear
# scores; header id,x1,…,x5,y.
make_multi_csv() {
    awk -v s="$2" -v n="$3" -v first="$4" 'BEGIN {
        srand(s)
        print "id,x1,x2,x3,x4,x5,y"
        for (i = 0; i < n; i++) {
            best = -1e9; c = 0
            for (j = 1; j <= 5; j++) x[j] = rand() - 0.5
            for (k = 0; k < 4; k++) {
                z = 0
                for (j = 1; j <= 5; j++) z += x[j] * ((k * 7 + j * 3) % 5 - 2)
                if (z > best) { best = z; c = k }
            }
            printf "%d", first + i
            for (j = 1; j <= 5; j++) printf ",%.4f", x[j]
            printf ",%d\n", c
        }
    }' >"$1"
}
