# vigil: one GNU Makefile. Sources are discovered, so a new engine/*.c,
# tools/*.c, tests/unit/test_*.c or tests/fuzz/fuzz_*.c needs no edit here.
#
#   make                  bin/vigild and bin/vigil
#   make test             unit + integration tests + fuzz corpus replay
#   make SANITIZE=1 test  the same under AddressSanitizer + UBSan
#   make run              install deps if needed, build, run vigild
#   make bench            replay benchmark against SEC (BENCHMARKS.md)
#   make fuzz             run every fuzz target for FUZZ_SECONDS (clang)

CC       ?= gcc
SANITIZE ?= 0
WERROR   ?= 0
PKGS     := libevent libevent_pthreads libevent_openssl libpcre2-8 jansson hiredis \
            yaml-0.1 libcurl openssl
DEB_PKGS := build-essential pkg-config libevent-dev libpcre2-dev libjansson-dev \
            libhiredis-dev libyaml-dev libcurl4-openssl-dev libssl-dev \
            redis-server python3 sec

ifeq ($(SANITIZE),1)
VARIANT  := asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1
else
VARIANT  := release
SANFLAGS :=
OPT      := -O2
endif

# Profile-guided optimisation of the release build, with gcc: the objects
# are first built with -fprofile-generate (build/pgo-gen), `vigil replay`
# runs the training workload (tests/pgo/gen_train.py: every shipped
# decoder's messages in the syslog and JSON shapes vigil reads) through the
# shipped rules, and the release objects are compiled with that profile
# (about 10% less CPU per event). Functions the training does not run are
# optimised as without it. PGO=0 skips it for quicker edit-build cycles
# (and it is off without python3, which writes the training workload).
IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -c clang)
HAVE_PY  := $(shell command -v python3 >/dev/null 2>&1 && echo 1)
ifeq ($(IS_CLANG)$(HAVE_PY),01)
PGO      ?= 1
else
PGO      := 0
endif
PGO_CFLAGS :=
PGO_LDFLAGS :=
ifeq ($(PGO_STAGE),gen)
VARIANT  := pgo-gen
PGO_CFLAGS := -fprofile-generate -fprofile-update=atomic
PGO_LDFLAGS := -fprofile-generate
else ifeq ($(VARIANT)$(PGO),release1)
PGO_CFLAGS := -fprofile-use -fprofile-partial-training -Wno-missing-profile
endif

B        := build/$(VARIANT)
WFLAGS   := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WFLAGS   += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# bin/vigil opens libcurl only for `vigil incidents` (tools/incidents.c)
TOOL_LIBS  := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) -lpthread -lm
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(OPT) -g $(WFLAGS) $(SANFLAGS) $(PGO_CFLAGS) $(PKG_CFLAGS) -Iengine $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(PGO_LDFLAGS) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lpthread -lm

ENGINE_SRC := $(filter-out engine/main.c,$(wildcard engine/*.c))
TOOLS_SRC  := $(wildcard tools/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/%.o)
TOOLS_OBJ  := $(TOOLS_SRC:%.c=$(B)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(B)/fuzz/replay_%)
LIB        := $(B)/libvigil.a

# The release build's programs live in bin/; a sanitizer build keeps its own.
ifeq ($(VARIANT),release)
BINDIR := bin
ifeq ($(PGO),1)
PROFILE := build/release/.profile
endif
else
BINDIR := $(B)/bin
endif

# Rebuild everything when the compiler or its flags change.
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW   := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(shell mkdir -p $(B) && (test -f $(FLAGS_STAMP) && [ "$$(cat $(FLAGS_STAMP))" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP)))

.PHONY: all test run deps bench bench-sigma bench-ingest bench-response fuzz clean check-deps
.SECONDARY:
all: $(BINDIR)/vigild $(BINDIR)/vigil

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies: run 'make deps' (as root) or: apt-get install $(DEB_PKGS)"; exit 1; }

$(B)/%.o: %.c $(FLAGS_STAMP) $(PROFILE) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PGO_OBJ) -MMD -MP -c $< -o $@

# The profile: the counts of the instrumented build's training run. Both
# stages name a source's counts file alike (build/pgo-data/engine/x.c.gcda),
# since gcc also identifies a static function by that name. Any change to
# the sources or to the training reruns it.
PGO_GEN  := build/pgo-gen
PGO_DATA := build/pgo-data
ifneq ($(PGO_CFLAGS),)
PGO_OBJ   = -dumpdir $(PGO_DATA)/$(dir $<) -dumpbase $(notdir $<)
endif
PGO_RULES := --rules rules/linux --rules rules/mappings --rules rules/placeholders.yml
build/release/.profile: $(ENGINE_SRC) engine/main.c $(TOOLS_SRC) $(wildcard engine/*.h tools/*.h) \
    tests/pgo/gen_train.py $(wildcard parsers/*.yml rules/linux/*.yml rules/mappings/*.yml) \
    rules/placeholders.yml Makefile | check-deps
	@mkdir -p $(dir $@)
	$(MAKE) --no-print-directory PGO_STAGE=gen $(PGO_GEN)/bin/vigil
	rm -rf $(PGO_DATA)
	python3 tests/pgo/gen_train.py > $(PGO_GEN)/train.log
	$(PGO_GEN)/bin/vigil replay -q --threads 2 $(PGO_RULES) $(PGO_GEN)/train.log > /dev/null
	@touch $@

$(LIB): $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/vigild: $(B)/engine/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BINDIR)/vigil: $(TOOLS_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TOOL_LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/fuzz/replay_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

test: all $(UNIT_BIN) $(FUZZ_REPLAY)
	@VIGIL_BIN=$(CURDIR)/$(BINDIR) VIGIL_BUILD=$(CURDIR)/$(B) SANITIZE=$(SANITIZE) \
	    bash tests/run.sh

run: deps all
	$(BINDIR)/vigild -c vigil.yml

deps:
	@if pkg-config --exists $(PKGS) && command -v redis-server >/dev/null && command -v python3 >/dev/null; then \
	    true; \
	elif [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PKGS); \
	else \
	    echo "missing packages; run as root:  apt-get install -y $(DEB_PKGS)"; exit 1; \
	fi

bench: all
	bash tests/bench/bench_replay.sh

bench-ingest: all
	bash tests/bench/bench_ingest.sh

bench-sigma: all
	bash tests/bench/bench_sigma.sh

bench-response: all
	bash tests/bench/bench_response.sh

bench-correlate: all $(B)/tests/test_correlate_drive
	bash tests/bench/bench_correlate.sh

# Coverage-guided fuzzing with clang's libFuzzer, FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -Iengine
fuzz:
	@mkdir -p build/fuzz
	@for f in $(FUZZ_SRC); do \
	    t=$$(basename $$f .c | sed 's/^fuzz_//'); \
	    clang $(FUZZ_CFLAGS) -o build/fuzz/fuzz_$$t $$f $(ENGINE_SRC) $(PKG_LIBS) -lpthread -lm || exit 1; \
	    mkdir -p tests/fuzz/corpus/$$t build/fuzz/work_$$t; \
	    build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        -artifact_prefix=tests/fuzz/corpus/$$t/crash- build/fuzz/work_$$t tests/fuzz/corpus/$$t || exit 1; \
	done

clean:
	rm -rf build bin

-include $(ENGINE_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d) $(B)/engine/main.d
-include $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%.d)
