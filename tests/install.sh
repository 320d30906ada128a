#!/bin/sh
# make install into a temporary prefix, then build a program against the
# installed header, shared library and lethe.pc, and run it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $*"; fi; }

make -s -C "$top" install PREFIX="$tmp/prefix" >/dev/null
for f in include/lethe.h lib/liblethe.a lib/liblethe.so lib/liblethe.so.0 \
         lib/pkgconfig/lethe.pc bin/lethe share/man/man1/lethe.1; do
    check test -e "$tmp/prefix/$f"
done
# the manual page: every command's section, rendered without a warning
man1="$tmp/prefix/share/man/man1/lethe.1"
for c in $("$tmp/prefix/bin/lethe" --help | awk '/^commands:/ { on = 1; next }
        on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
    check grep -q "^\.SS $c\$" "$man1"
done
check grep -q "usage: lethe train --data FILE" "$man1"
if command -v groff >/dev/null; then
    check test -z "$(groff -k -man -Tutf8 -ww -z "$man1" 2>&1)"
fi
check grep -q "^prefix=$tmp/prefix\$" "$tmp/prefix/lib/pkgconfig/lethe.pc"
soname=$(readelf -d "$tmp/prefix/lib/liblethe.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
check test "$soname" = liblethe.so.0
# only lethe_ symbols leave the shared library
check test -z "$(nm -D --defined-only "$tmp/prefix/lib/liblethe.so" | awk '{print $3}' | grep -v '^lethe_')"

cat >"$tmp/use.c" <<'C'
#include <stdio.h>
#include <lethe.h>
int main(void)
{
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return 1;
    double x[8] = { 0.3, -0.2, 0.25, 0.1, -0.3, 0.2, -0.1, -0.25 }, y[4] = { 1, 1, -1, -1 };
    lethe_dataset *ds = NULL;
    lethe_model *m = NULL;
    lethe_train_options o;
    lethe_train_options_init(&o);
    int ok = lethe_dataset_create(ctx, 4, 2, x, 2, y, NULL, LETHE_NORM_MEASURE, 0, &ds) == LETHE_OK
             && lethe_model_train(ctx, ds, &o, &m) == LETHE_OK;
    uint64_t id = 2;
    lethe_removal_report r;
    ok = ok && lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &r) == LETHE_OK && r.certified;
    printf("%s %s\n", LETHE_VERSION_STRING, ok ? "removed" : lethe_ctx_errmsg(ctx));
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
    return ok ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
check cc -std=c11 -Wall -Werror -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags --libs lethe)
check env LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/use"
check cc -std=c11 -o "$tmp/use-static" "$tmp/use.c" $(pkg-config --cflags lethe) \
    "$tmp/prefix/lib/liblethe.a" $(pkg-config --static --libs-only-other --libs lethe | sed 's/-llethe//')
check "$tmp/use-static"
check "$tmp/prefix/bin/lethe" --version

# The Python package, used from outside the source tree with neither
# LETHE_LIB nor PYTHONPATH pointing into it: it must load the library it was
# installed with (argument 1) and fit, forget, publish and certify.
cat >"$tmp/smoke.py" <<'PY'
import os, sys
import numpy as np
import lethe
lib = os.path.realpath(lethe._lib._name)
assert lib == os.path.realpath(sys.argv[1]), f"loaded {lib}, not {sys.argv[1]}"
assert not lethe.__file__.startswith(sys.argv[2]), f"{lethe.__file__} is in the source tree"
rng = np.random.default_rng(11)
X = rng.normal(size=(300, 5))
y = (X @ np.array([0.7, -1.3, 0.2, 0.9, -0.4]) > 0).astype(int)
model = lethe.CertifiedClassifier(lam=1e-3).fit(X, y, ids=np.arange(500, 800))
ws = lethe.Workspace.create(os.path.join(sys.argv[3], "ws"))
ws.save(model)
cert = ws.forget(model, [517, 642])
assert cert.k == 2 and not model.has_record(642) and ws.verify()
assert model.score(X, y) > 0.8
print("python", lib, "removed", cert.k)
PY
pysmoke() { # PYTHONPATH PYTHON LIBRARY: the smoke test, run from an empty directory
    rm -rf "$tmp/run" && mkdir "$tmp/run" &&
        (cd "$tmp/run" && env -u LETHE_LIB PYTHONPATH="$1" PYTHONDONTWRITEBYTECODE=1 \
            "$2" "$tmp/smoke.py" "$3" "$top" "$tmp/run")
}
# make install: Debian's python3, with the prefix's site directory on its path
site=$(find "$tmp/prefix/lib" -path '*-packages/lethe/__init__.py' | sed 's|/lethe/__init__.py$||')
check test -n "$site"
check pysmoke "$site" /usr/bin/python3 "$tmp/prefix/lib/liblethe.so.0"

# make python's wheel, and pip install ./python, each in a virtual environment
# that sees Debian's numpy; no package index is consulted
check make -s -C "$top" python >/dev/null
wheel=$(ls "$top"/build/python/lethe-*.whl)
check /usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
venv_site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
check "$tmp/venv/bin/pip" install -q --no-index "$wheel"
check pysmoke "" "$tmp/venv/bin/python" "$venv_site/lethe/liblethe.so.0"
check "$tmp/venv/bin/pip" uninstall -q -y lethe
check "$tmp/venv/bin/pip" install -q --no-index "$top/python"
check pysmoke "" "$tmp/venv/bin/python" "$venv_site/lethe/liblethe.so.0"
# LETHE_LIB overrides the bundled library
lib=$(cd "$tmp" && LETHE_LIB="$tmp/prefix/lib/liblethe.so.0" "$tmp/venv/bin/python" -c \
    'import lethe; print(lethe._lib._name)')
check test "$lib" = "$tmp/prefix/lib/liblethe.so.0"

echo "install: $pass passed, $fail failed"
test "$fail" -eq 0
