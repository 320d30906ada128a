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
echo "install: $pass passed, $fail failed"
test "$fail" -eq 0
