#!/bin/sh
# The ten-class demo: a one-vs-rest model of all ten Fashion-MNIST classes
# (60,000 training images, rows scaled to unit norm, M3 with the library's
# defaults), certified removals of 100 random records in one release, the
# ledger verified, and the published model's test accuracy (10,000 images)
# before and after, beside the time a retrain takes.
#   LETHE=build/lethe sh scripts/demo-multiclass.sh [DATA_DIR]
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
: "${LETHE:?set LETHE to the lethe binary}"
fm=${1:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
train="--data $fm/train-images-idx3-ubyte.gz --labels $fm/train-labels-idx1-ubyte.gz"
test="--data $fm/t10k-images-idx3-ubyte.gz --labels $fm/t10k-labels-idx1-ubyte.gz"
common="--classes all --norm normalize"
ws="$tmp/fmnist10"

accuracy() { # the published model's test accuracy, in %
    # shellcheck disable=SC2086
    "$LETHE" evaluate --workspace "$ws" $test $common --json |
        sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' | awk '{ printf "%.2f", 100 * $1 }'
}

echo "== train: one-vs-rest over the 10 classes, 60000 images (M3, ε = 1 per release)"
"$LETHE" init "$ws" >/dev/null
# shellcheck disable=SC2086
"$LETHE" train --workspace "$ws" $train $common |
    grep -E "^(records n|classes|weights|noise σ|release sensitivity|training time)"
echo "test accuracy of the published model: $(accuracy) %"

echo "== forget 100 random records in one batch (one release, one certificate)"
awk 'BEGIN { srand(2385); for (i = 0; i < 100; i++) print int(rand() * 60000) }' |
    sort -un >"$tmp/ids"
"$LETHE" forget --workspace "$ws" --ids-file "$tmp/ids" |
    grep -E "^(records removed|Newton steps|re-anchors|distance bound|certified|time|ε of the history)"
echo "test accuracy of the published model: $(accuracy) %"

echo "== the ledger"
"$LETHE" verify --workspace "$ws" | grep -E "^(certificates|checked|signer|verified|ledger)" || true
grep -E '"(classes|d|mechanism|k)":' "$ws"/ledger/00000001.json

echo "== for comparison, retraining from scratch on the same records"
start=$(date +%s.%N)
"$LETHE" init "$tmp/retrain" >/dev/null
# shellcheck disable=SC2086
"$LETHE" train --workspace "$tmp/retrain" $train $common >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "retraining took %.1f s\n", e - s }'
