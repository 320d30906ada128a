#!/bin/sh
# The lethe tool under address-space limits (ulimit -v): train, forget,
# refresh, status and verify on an M3 workspace of the Fashion-MNIST task
# (classes 4,2, --norm normalize; 12000 × 784), and forget and refresh on a
# guo one, must each end within the timeout, with exit 0, or exit 5 and a
# message naming memory, and leave a workspace that verifies. OpenBLAS
# 0.3.21 retries a failed allocation forever; the tool must not hang on it
# (src/cli/main.c). Run by make check (not under the sanitizers, whose
# shadow memory needs more address space than any of these limits).
#   LETHE=build/lethe sh tests/limits.sh
# LETHE_FMNIST names the data's directory; without it, a generated CSV of
# the same size is used. LETHE_LIMITS lists the limits in MB (default
# "150 300 500"), LIMITS_TIMEOUT the seconds each command may take (60).
# Prints one line per failed check and ends with "limits: N passed, M failed".
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

: "${LETHE:?set LETHE to the lethe binary}"
finished=0
tmp=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
on_exit() {
    rc=$?
    rm -rf "$tmp"
    [ "$finished" -eq 1 ] || echo "limits: aborted after $pass passed, $fail failed"
    exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

limits=${LETHE_LIMITS:-150 300 500}
secs=${LIMITS_TIMEOUT:-60}
SEED=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

fm=${LETHE_FMNIST:-/usr/share/datasets/fashion-mnist}
if [ -f "$fm/train-images-idx3-ubyte.gz" ] && [ -f "$fm/train-labels-idx1-ubyte.gz" ]; then
    data="--data $fm/train-images-idx3-ubyte.gz --labels $fm/train-labels-idx1-ubyte.gz
          --classes 4,2 --norm normalize"
else
    # As large as the real task: 12000 records of 784 features (75 MB as doubles).
    coefs=$(awk 'BEGIN { for (j = 0; j < 784; j++) printf "%.3f ", ((j * 37) % 19 - 9) / 9 }')
    # shellcheck disable=SC2086
    make_csv "$tmp/data.csv" 2385 12000 1 0.5 $coefs
    data="--data $tmp/data.csv --id-col 0 --norm normalize"
fi

# The workspaces every limited forget, refresh, status and verify starts
# from: M3 (the default) and guo, whose pass threads each take a BLAS buffer.
"$LETHE" init "$tmp/ws" >/dev/null
# shellcheck disable=SC2086
"$LETHE" train --workspace "$tmp/ws" $data --seed $SEED >/dev/null
"$LETHE" init "$tmp/guo" >/dev/null
# shellcheck disable=SC2086
"$LETHE" train --workspace "$tmp/guo" $data --seed $SEED --mechanism guo --sigma 1 >/dev/null

# limited MB LABEL CMD...: CMD under `ulimit -v MB` ends within the timeout
# with exit 0, or with exit 5 and a message naming memory.
limited() {
    mb=$1 label="$2 at $1 MB"
    shift 2
    rc=0
    (ulimit -v $((mb * 1024)) && exec timeout "$secs" "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
    case $rc in
    0) ok ;;
    5) if grep -qi memory "$tmp/err"; then ok; else
           bad "$label: exit 5 without naming memory"
           sed 's/^/    /' "$tmp/err" | head -4
       fi ;;
    124) bad "$label: still running after $secs s" ;;
    *) bad "$label: exit $rc"; sed 's/^/    /' "$tmp/err" | head -4 ;;
    esac
    echo "$label: exit $rc" >>"$tmp/log"
}

# intact WS LABEL: after a limited command, whatever its exit, the workspace
# opens and its ledger verifies (a failed command changed nothing, or
# committed whole).
intact() {
    if ! "$LETHE" verify --workspace "$1" >"$tmp/vout" 2>&1; then
        bad "$2: the workspace does not verify afterwards"
        sed 's/^/    /' "$tmp/vout" | head -4
    fi
}

for mb in $limits; do
    rm -rf "$tmp/new"
    "$LETHE" init "$tmp/new" >/dev/null
    # shellcheck disable=SC2086
    limited "$mb" train "$LETHE" train --workspace "$tmp/new" $data --seed $SEED
    for ws in ws guo; do
        for cmd in forget refresh status verify; do
            [ "$ws" = ws ] || [ "$cmd" = forget ] || [ "$cmd" = refresh ] || continue
            rm -rf "$tmp/w"
            cp -Rp "$tmp/$ws" "$tmp/w"
            name=$cmd
            [ "$ws" = ws ] || name="$cmd (guo)"
            case $cmd in
            forget) limited "$mb" "$name" "$LETHE" forget --workspace "$tmp/w" 5 ;;
            *) limited "$mb" "$name" "$LETHE" "$cmd" --workspace "$tmp/w" ;;
            esac
            intact "$tmp/w" "$name at $mb MB"
        done
    done
done

[ -z "${LIMITS_VERBOSE:-}" ] || cat "$tmp/log"
finished=1
echo "limits: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
