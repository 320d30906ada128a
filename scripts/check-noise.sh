#!/bin/sh
# The old floating-point noise path is gone (LTH-C-0010): no Box–Muller or
# other float transform of uniforms into Gaussians is left in the library,
# and every noise draw goes through the lattice sampler.
#   sh scripts/check-noise.sh [path/to/liblethe.a]
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
lib=${1:-build/liblethe.a}
bad=0
say() { echo "check-noise: $*" >&2; bad=1; }
# 1. the retired sampler's symbol is not in the library
if nm "$lib" 2>/dev/null | grep -q 'lethe__gaussian'; then
    say "$lib still defines lethe__gaussian (Box–Muller)"
fi
# 2. nothing in the library's noise code calls a transcendental function
#    (the sampler is integer-only; rng.c only moves bytes)
for f in src/dp/lattice.c src/dp/rng.c; do
    # code only: drop comments (one-line, openings and block-comment lines)
    sed -e 's|/\*.*\*/||' -e 's|/\*.*||' -e 's|^[[:space:]]*\*.*||' "$f" |
        grep -nE '\b(log|logl|exp|expl|cos|sin|sqrt|erf|erfc|tan|atan|pow)[[:space:]]*\(' |
        sed "s|^|$f:|"
done > "${TMPDIR:-/tmp}/check-noise.$$"
if [ -s "${TMPDIR:-/tmp}/check-noise.$$" ]; then
    cat "${TMPDIR:-/tmp}/check-noise.$$" >&2
    say "a floating-point transform appears in the noise code (above)"
fi
rm -f "${TMPDIR:-/tmp}/check-noise.$$"
# 3. every noise draw in the mechanisms is a lattice draw
if grep -rnE 'lethe__gaussian|rng_uniform[[:space:]]*\(' src/certify src/io src/cli; then
    say "a mechanism draws noise outside the lattice sampler (above)"
fi
[ "$bad" -eq 0 ] && echo "check-noise: the noise is the integer lattice sampler only"
exit "$bad"
