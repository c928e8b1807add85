# dedupd - top-level build. See README.md.
#
#   make            build bin/dedupd, bin/dedupctl, bin/ddp (+ tests, benches)
#   make run        install missing packages, build, run dedupd in ./var
#   make test       build and run every unit and integration test
#   make asan       the same suite under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       build libFuzzer targets with clang and run each briefly
#   make bench      run the benchmarks (figures as ratios to baselines)
#   make install    install binaries, unit, config example, docs
#
# Every module folder is one static library of its *.c files; tests, fuzz
# targets and benches are found by name, so adding a file needs no edit here.
# Extra rules live in mk/*.mk.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
BINDIR ?= bin
OBJDIR := $(BUILD)/obj

CC ?= cc
OPT ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wvla -Wwrite-strings \
	-Wmissing-prototypes -Wstrict-prototypes -fno-common -Werror
SAN ?=
PKGS := libevent libevent_openssl libevent_pthreads openssl libzstd \
	libxxhash lmdb libcurl expat libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS += -I. -D_GNU_SOURCE -DDD_VERSION='"$(VERSION)"'
CFLAGS += $(OPT) $(WARN) $(SAN) $(PKG_CFLAGS) -pthread -MMD -MP
LDFLAGS += $(SAN) -pthread
LDLIBS += $(PKG_LIBS) -lhttp_parser -lm

# Link order: higher layers first (gateway -> s3api, ddproto -> segstore
# -> index -> common).
MODULES := gateway s3api ddproto segstore index common
lib_of = $(OBJDIR)/lib$(1).a
LIBS := $(foreach m,$(MODULES),$(call lib_of,$(m)))

module_srcs = $(filter-out gateway/main.c,$(wildcard $(1)/*.c))
$(foreach m,$(MODULES),$(eval OBJS_$(m) := $(patsubst %.c,$(OBJDIR)/%.o,$(call module_srcs,$(m)))))

PROGS := $(BINDIR)/dedupd $(BINDIR)/dedupctl $(BINDIR)/ddp
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BINDIR)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BINDIR)/tests/%-replay,$(FUZZ_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BINDIR)/bench/%,$(BENCH_SRCS))

.PHONY: all deps run test unit integration asan fuzz bench install clean
# Keep objects of tests and benches (make would delete them as intermediates).
.SECONDARY:
all: $(PROGS) $(UNIT_BINS) $(FUZZ_REPLAY) $(BENCH_BINS)

$(OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

define lib_rule
$(call lib_of,$(1)): $(OBJS_$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(if $$^,ar rcs $$@ $$^,ar rcs $$@)
endef
$(foreach m,$(MODULES),$(eval $(call lib_rule,$(m))))

$(BINDIR)/dedupd: $(OBJDIR)/gateway/main.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

$(BINDIR)/dedupctl: $(patsubst %.c,$(OBJDIR)/%.o,$(wildcard tools/dedupctl/*.c)) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS)

$(BINDIR)/ddp: $(patsubst %.c,$(OBJDIR)/%.o,$(wildcard tools/ddp/*.c)) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(LDLIBS)

$(BINDIR)/tests/%: $(OBJDIR)/tests/unit/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS) -lcmocka

# Fuzz targets double as regression tests: the replay driver feeds them the
# checked-in corpus and a few thousand random inputs under the normal build.
$(BINDIR)/tests/%-replay: $(OBJDIR)/tests/fuzz/%.o $(OBJDIR)/tests/fuzz/replay_main.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(OBJDIR)/tests/fuzz/replay_main.o $(LIBS) $(LDLIBS)

$(BINDIR)/bench/%: $(OBJDIR)/bench/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

deps:
	@tools/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory $(BINDIR)/dedupd $(BINDIR)/dedupctl $(BINDIR)/ddp
	@mkdir -p var
	exec $(BINDIR)/dedupd --data-dir var

unit: all
	@BINDIR=$(abspath $(BINDIR)) tests/run.sh unit

integration: all
	@BINDIR=$(abspath $(BINDIR)) tests/run.sh integration

test: deps
	@$(MAKE) --no-print-directory all
	@BINDIR=$(abspath $(BINDIR)) tests/run.sh all

# Same suite, separate build tree, sanitizers on and fatal.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan BINDIR=build-asan/bin \
		OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	@BINDIR=$(abspath build-asan/bin) DD_SANITIZED=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run.sh all

FUZZ_SECONDS ?= 30
fuzz: deps
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-libfuzzer.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BINDIR=$(abspath $(BINDIR)) bench/run.sh

# install: see mk/install.mk

clean:
	rm -rf build build-asan bin

-include $(wildcard mk/*.mk)
-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
