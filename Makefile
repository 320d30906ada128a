# lethe — certified machine unlearning.  SPDX-License-Identifier: GPL-3.0-or-later
#
#   make                     liblethe.a, liblethe.so and the lethe tool, in build/
#   make check               every test suite (cmocka), the CLI test and the trace check
#   make SANITIZE=address,undefined check
#   make demo                the main job: certified removal on Fashion-MNIST
#   make demo-multiclass     the same for all ten classes (one-vs-rest), with the tool
#   make bench               M3 on the demo data (accuracy, re-anchors, λ × Δ_max, M1/M2/M3),
#                            removal vs retraining, noise sampler vs float (bench/README.md)
#   make bench-models        the models side by side: linear, intercept, smooth hinge, RFF, ReLU
#   make bench-scaling       removal and retraining against n and d, figures in bench/figures
#   make bench-multiclass    ten classes one-vs-rest (linear, RFF) beside scikit-learn (~25 min)
#   make bench-difficulty    does `lethe difficulty` rank removals by their cost? (~30 s)
#   make killtest [KILLS=2000]  SIGKILL of forget/refresh at random moments (tests/kill.sh)
#   make stattest            the noise sampler's statistical tests, fresh seeds, more samples
#   make lipschitz           measures how the residual moves with b (proofs/certificate.md, G1)
#   make audit               privacy audits of M3, with controls that must fail (bench/audit.md)
#   make limits              the tool under ulimit -v (tests/limits.sh; LETHE_LIMITS="MB …")
#   make install PREFIX=/usr/local DESTDIR=   (the Python package too, beside the library)
#   make python              the Python package as a wheel, liblethe inside (build/python/)
#   make plots               the Python demo's figures: budget, accuracy, removal times
#   make valgrind | coverage | clean
#   make fuzz [FUZZ_SECONDS=60]   each libFuzzer target in fuzz/ (needs clang)

PREFIX   ?= /usr/local
DESTDIR  ?=
SANITIZE ?=
CC       ?= cc
PYTHON   ?= /usr/bin/python3

PKGS := openblas lapacke libsodium cmocka zlib gsl
# Missing build dependencies are installed (as root) or named (otherwise).
DEPS_OK := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
$(info lethe: build dependencies missing, running scripts/install-deps.sh)
DEPS_RC := $(shell sh scripts/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error install the packages named above, then run make again)
endif
endif

comma := ,
BUILD ?= build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))

VERSION := 0.1.0
SOMAJOR := 0

WARN := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes \
        -Wfloat-equal -Wvla -Wpointer-arith -Wcast-qual -Wformat=2
DEP_CFLAGS := $(shell pkg-config --cflags openblas lapacke libsodium zlib)
DEP_LIBS := $(shell pkg-config --libs openblas lapacke libsodium zlib) -lpthread -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)
# GSL with OpenBLAS as its CBLAS (never gslcblas beside it); for the audit's
# statistics (bench/audit.c, tests/test_audit.c)
GSL_CFLAGS := $(shell pkg-config --cflags gsl)
GSL_LIBS := $(shell pkg-config --define-variable=GSL_CBLAS_LIB=-lopenblas --libs gsl)

OPT ?= -O2
CFLAGS_ALL := -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) -g -fPIC $(WARN) \
              -Iinclude -Isrc $(DEP_CFLAGS) $(CFLAGS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_ALL := -fsanitize=$(SANITIZE)
endif
ifeq ($(COVERAGE),1)
CFLAGS_ALL += --coverage -O0
LDFLAGS_ALL += --coverage
endif
LDFLAGS_ALL += $(LDFLAGS)

LIB_SRC  := $(wildcard src/base/*.c src/optim/*.c src/dp/*.c src/features/*.c src/certify/*.c src/io/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

STATIC := $(BUILD)/liblethe.a
SHARED := $(BUILD)/liblethe.so.$(VERSION)
TOOL   := $(BUILD)/lethe

.PHONY: all check test killtest trace demo demo-multiclass bench bench-models bench-scaling bench-multiclass bench-difficulty stattest lipschitz audit limits install \
        uninstall clean valgrind coverage fuzz fuzz-build python plots
all: $(STATIC) $(SHARED) $(TOOL) $(BUILD)/lethe.pc

$(BUILD)/src/%.o: src/%.c include/lethe.h $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DLETHE_BUILD -fvisibility=hidden -c $< -o $@

$(BUILD)/src/cli/%.o: src/cli/%.c include/lethe.h $(wildcard src/cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,liblethe.so.$(SOMAJOR) $(LDFLAGS_ALL) -o $@ $^ $(DEP_LIBS)
	ln -sf liblethe.so.$(VERSION) $(BUILD)/liblethe.so.$(SOMAJOR)
	ln -sf liblethe.so.$(SOMAJOR) $(BUILD)/liblethe.so

$(TOOL): $(CLI_OBJ) $(STATIC)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(STATIC) $(DEP_LIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) fuzz/fuzz.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(GSL_CFLAGS) -Itests -o $@ $< $(STATIC) $(CMOCKA_LIBS) $(GSL_LIBS) \
	  $(DEP_LIBS) $(LDFLAGS_ALL)

# The short audit in make check is bench/audit.c itself, without its main.
$(BUILD)/tests/test_audit: bench/audit.c

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(STATIC) $(DEP_LIBS) $(LDFLAGS_ALL)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(GSL_CFLAGS) -o $@ $< $(STATIC) $(GSL_LIBS) $(DEP_LIBS) $(LDFLAGS_ALL)

# pkg-config file for the prefix given (install writes it again for its PREFIX).
define PC_TEXT
prefix=$(PREFIX)
libdir=$${prefix}/lib
includedir=$${prefix}/include

Name: lethe
Description: certified machine unlearning for linear models
Version: $(VERSION)
Requires.private: openblas lapacke libsodium zlib
Libs: -L$${libdir} -llethe
Libs.private: -lpthread -lm
Cflags: -I$${includedir}
endef
export PC_TEXT

$(BUILD)/lethe.pc: Makefile
	@mkdir -p $(BUILD)
	@printf '%s\n' "$$PC_TEXT" > $@

# Tests run one binary at a time so that their output stays readable; the
# summary line counts the suites.
check: all $(TEST_BIN) trace
	@pass=0; fail=0; for t in $(TEST_BIN); do \
	  if LETHE_TEST_DATA=$(CURDIR)/tests/data LETHE_FUZZ_CORPUS=$(CURDIR)/fuzz/corpus $$t; \
	  then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: $$t"; fi; done; \
	  if LETHE=$(CURDIR)/$(TOOL) sh tests/cli.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/cli.sh"; fi; \
	  if LETHE=$(CURDIR)/$(TOOL) sh tests/workspace.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/workspace.sh"; fi; \
	  if LETHE=$(CURDIR)/$(TOOL) sh tests/crash.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/crash.sh"; fi; \
	  if LETHE=$(CURDIR)/$(TOOL) sh tests/kill.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/kill.sh"; fi; \
	  if [ -z "$(SANITIZE)" ]; then if LETHE=$(CURDIR)/$(TOOL) sh tests/limits.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/limits.sh"; fi; fi; \
	  if [ -z "$(SANITIZE)$(COVERAGE)" ]; then if PYTHONDONTWRITEBYTECODE=1 LETHE_LIB=$(CURDIR)/$(SHARED) PYTHONPATH=$(CURDIR)/python \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: python/tests"; fi; fi; \
	  if sh scripts/check-noise.sh $(STATIC); then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: scripts/check-noise.sh"; fi; \
	  if [ -z "$(SANITIZE)$(COVERAGE)" ]; then if sh tests/install.sh; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: tests/install.sh"; fi; fi; \
	  echo "suites: $$pass passed, $$fail failed"; test $$fail -eq 0
test: check

# tests/kill.sh with more kills than make check's 200 (minutes at the default).
KILLS ?= 2000
killtest: $(TOOL)
	LETHE=$(CURDIR)/$(TOOL) KILLS=$(KILLS) sh tests/kill.sh

trace:
	@sh scripts/trace.sh

FMNIST := /usr/share/datasets/fashion-mnist
$(FMNIST)/train-images-idx3-ubyte.gz:
	sh scripts/install-deps.sh

demo: $(BUILD)/examples/fashion_demo $(FMNIST)/train-images-idx3-ubyte.gz
	$(BUILD)/examples/fashion_demo $(FMNIST)

# All ten classes, one-vs-rest, 60 000 images, with the tool (about a minute).
demo-multiclass: $(TOOL) $(FMNIST)/train-images-idx3-ubyte.gz
	LETHE=$(CURDIR)/$(TOOL) sh scripts/demo-multiclass.sh $(FMNIST)

bench: $(BUILD)/bench/bench_m3 $(BUILD)/bench/bench_removal $(BUILD)/bench/bench_noise \
       $(FMNIST)/train-images-idx3-ubyte.gz bench-models bench-scaling bench-difficulty
	$(BUILD)/bench/bench_m3 $(FMNIST)
	$(BUILD)/bench/bench_removal $(FMNIST)
	$(BUILD)/bench/bench_noise

# The models side by side under M3 (linear, intercept, smooth hinge, random
# Fourier and ReLU heads) on the demo task: accuracy, removal against
# retraining, memory (bench/README.md; about 5 minutes).
bench-models: $(BUILD)/bench/bench_models $(FMNIST)/train-images-idx3-ubyte.gz
	$(BUILD)/bench/bench_models $(FMNIST)

# M3's removal and retraining from scratch against n (the first n records)
# and against d (random Fourier features of dimension d), medians of the
# same run, as CSV files and figures in bench/figures (bench/README.md;
# about 1.5 minutes).
bench-scaling: $(BUILD)/bench/bench_scaling $(FMNIST)/train-images-idx3-ubyte.gz
	@mkdir -p bench/figures
	$(BUILD)/bench/bench_scaling n $(FMNIST) bench/figures/scaling-n.csv
	$(BUILD)/bench/bench_scaling d $(FMNIST) bench/figures/scaling-d.csv
	$(PYTHON) bench/plot_scaling.py bench/figures

# All ten classes, one-vs-rest at λ = 1e-5 (linear; RFF D = 2000 with and
# without the pixels' square root, D = 3000 with it), beside scikit-learn in
# the same run (bench/README.md; about 25 minutes).
# Does the litmus test (lethe difficulty) predict a removal's cost? Rank
# correlations on the demo data (bench/README.md; about 30 seconds).
bench-difficulty: $(BUILD)/bench/bench_difficulty $(FMNIST)/train-images-idx3-ubyte.gz
	$(BUILD)/bench/bench_difficulty $(FMNIST)

bench-multiclass: $(BUILD)/bench/bench_multiclass $(FMNIST)/train-images-idx3-ubyte.gz
	$(BUILD)/bench/bench_multiclass $(FMNIST) 50 1e-5 0 2000:sqrt 2000 3000:sqrt
	LAMBDA=1e-5 /usr/bin/python3 bench/sklearn_multiclass.py $(FMNIST)

# The noise sampler's statistical tests with fresh seeds (printed) and
# STAT_SCALE times the samples of `make check` (minutes at the default).
STAT_SCALE ?= 25
STAT_ROUNDS ?= 4
stattest: $(BUILD)/tests/test_lattice
	@i=0; while [ $$i -lt $(STAT_ROUNDS) ]; do i=$$((i+1)); \
	  LETHE_STAT_FRESH=1 LETHE_STAT_SCALE=$(STAT_SCALE) $(BUILD)/tests/test_lattice || exit 1; done

# Measures gap G1 of proofs/certificate.md (minutes: 2d + 1 trainings).
lipschitz: $(BUILD)/bench/residual_lipschitz $(FMNIST)/train-images-idx3-ubyte.gz
	$(BUILD)/bench/residual_lipschitz random 100
	$(BUILD)/bench/residual_lipschitz $(FMNIST) 100

# M3's privacy audits (bench/audit.md): distinguishing releases of θ from
# releases of the retrain, and reconstruction from two consecutive models,
# each with a control that must fail (about 1.5 minutes). Exits non-zero if
# an assertion fails; without the demo data its part is skipped, with a message.
audit: $(BUILD)/bench/audit
	$(BUILD)/bench/audit $(FMNIST)

# The tool under address-space limits (tests/limits.sh, also in make check):
# every command must end, with exit 0 or 5, at 150, 300 and 500 MB, or at
# the limits LETHE_LIMITS lists (in MB).
limits: all
	LETHE=$(CURDIR)/$(TOOL) sh tests/limits.sh

# The manual page, written from the tool's own --help texts (scripts/manpage.sh).
$(BUILD)/lethe.1: $(TOOL) scripts/manpage.sh
	sh scripts/manpage.sh $(TOOL) > $@.tmp && mv $@.tmp $@

# The Python package (python/, README.md "From Python"). make python builds a
# wheel with liblethe inside, for pip in a virtual environment; make install
# puts the package in PREFIX's site directory for Debian's python3, where it
# loads PREFIX/lib/liblethe.so.0.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
PYTHONDIR ?= $(PREFIX)/lib/python$(PYTHON_VERSION)/dist-packages

python: $(SHARED)
	@rm -rf $(BUILD)/python build/python-setup
	LETHE_LIB=$(CURDIR)/$(SHARED) $(PYTHON) -m pip wheel -q --no-index --no-deps \
	  --no-build-isolation -w $(BUILD)/python ./python
	@ls $(BUILD)/python/*.whl

# The Python demo's figures (python3 -m lethe.report --demo, on the demo's
# task): ε of the published history, the published accuracy and the removal
# times against removals, PNG and SVG, and demo.json, in PLOTS (about 15 s).
PLOTS ?= python/figures
plots: $(SHARED) $(FMNIST)/train-images-idx3-ubyte.gz
	PYTHONDONTWRITEBYTECODE=1 LETHE_LIB=$(CURDIR)/$(SHARED) PYTHONPATH=$(CURDIR)/python \
	  $(PYTHON) -m lethe.report --demo $(PLOTS)

install: all $(BUILD)/lethe.1
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf liblethe.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liblethe.so.$(SOMAJOR)
	ln -sf liblethe.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/liblethe.so
	install -m 644 include/lethe.h $(DESTDIR)$(PREFIX)/include/
	printf '%s\n' "$$PC_TEXT" > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lethe.pc
	install -m 755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/lethe.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	if [ -n "$(PYTHON_VERSION)" ]; then install -d $(DESTDIR)$(PYTHONDIR)/lethe && \
	  install -m 644 python/lethe/*.py $(DESTDIR)$(PYTHONDIR)/lethe/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/liblethe.* $(DESTDIR)$(PREFIX)/include/lethe.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/lethe.pc $(DESTDIR)$(PREFIX)/bin/lethe \
	  $(DESTDIR)$(PREFIX)/share/man/man1/lethe.1
	rm -rf $(DESTDIR)$(PYTHONDIR)/lethe

valgrind: all $(TEST_BIN)
	@for t in $(TEST_BIN); do LETHE_TEST_NO_REAL=1 valgrind -q --error-exitcode=1 \
	  --leak-check=full $$t || exit 1; done

coverage:
	$(MAKE) COVERAGE=1 BUILD=build-cov check
	@for f in $(LIB_SRC); do gcov -n -o build-cov/$$(dirname $$f) $$f 2>/dev/null | \
	  awk -v f=$$f '/^Lines executed/ { sub(/Lines executed:/, ""); print "  " f ": " $$0; exit }'; done

# Fuzzing (fuzz/README.md): the library compiled again by clang with libFuzzer,
# ASan and UBSan, one binary per parser. Only these targets need clang. A
# dense LIBSVM matrix is capped lower than in production, so that the
# fuzzer's 2 GB memory limit catches leaks and runaway growth, not a file
# that truly asks for a large matrix.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv idx libsvm state_m1 state_m2 cert keyfile encrypted head npy
FUZZ_BUILD   := build-fuzz
FUZZ_CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude -Isrc $(DEP_CFLAGS) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -DLETHE_LIBSVM_MAX_CELLS='((size_t)1 << 22)'
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/liblethe.a
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/src/%.o: src/%.c include/lethe.h $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DLETHE_BUILD -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/target.c fuzz/fuzz.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DLETHE_FUZZ_BODY=lethe_fuzz_$* -o $@ fuzz/target.c \
	  $(FUZZ_LIB) $(DEP_LIBS)

fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

# New inputs go to build-fuzz/corpus/<target>, crashes to build-fuzz/artifacts/.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  OPENBLAS_NUM_THREADS=1 $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=30 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf build build-* *.gcov
