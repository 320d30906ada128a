#!/bin/sh
# Traceability: every guarantee defined in proofs/ (a file whose title line is
# "# LTH-C-NNNN — …") must be implemented somewhere in src/ (an IMPLEMENTS
# mark) and checked by a test (an EVIDENCE mark), and every mark must name an
# ID that proofs/ defines.
set -eu
cd "$(dirname "$0")/.."
ids=$(for f in proofs/*.md; do head -n 1 "$f"; done | grep -o '^# LTH-[A-Z]-[0-9]\{4\}' | sed 's/^# //' | sort -u)
if [ -z "$ids" ]; then echo "trace: no guarantee IDs in proofs/"; exit 1; fi
bad=0
for id in $ids; do
    impl=$(grep -rl "IMPLEMENTS: $id" src | wc -l)
    evid=$(grep -rl "EVIDENCE: $id" tests | wc -l)
    [ "$impl" -gt 0 ] || { echo "trace: $id has no IMPLEMENTS mark in src/"; bad=1; }
    [ "$evid" -gt 0 ] || { echo "trace: $id has no EVIDENCE mark in tests/"; bad=1; }
done
for id in $(grep -rho '\(IMPLEMENTS\|EVIDENCE\): LTH-[A-Z]-[0-9]\{4\}' src tests | sed 's/.*: //' | sort -u); do
    echo "$ids" | grep -qx "$id" || { echo "trace: $id is marked in the code but not defined in proofs/"; bad=1; }
done
n=$(echo "$ids" | wc -l)
if [ "$bad" -eq 0 ]; then echo "trace: $n guarantees, each implemented and checked"; fi
exit $bad
