# mamori - build, test, demo. See README.md.
#
#   make            build build/mamori
#   make demo       install deps if missing, build, simulate an estate, scan it, list findings
#   make check      every test: unit + golden + samples, again without ../shared/data, the ASan+UBSan build of them, fuzz smoke
#   make test       unit + golden + samples on the normal build only (fast loop)
#   make golden     every end-to-end suite tests/golden/*.sh (MM_GOLDEN_UPDATE=1 rewrites the
#                   cases' expected.jsonl: tests/golden/cases/README.md)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 15)
#   make bench      the benchmark harness (bench/README.md)
#   make install    PREFIX=/usr/local: binary, bundled threat lists, man pages
#   make geo        fetch the ip-location-db data with npm, build data/geo/geo.mmgeo (optional)

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD   ?= build
OPT     := -O2 -g
endif
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation -Wno-unknown-warning-option
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -Isrc -pthread -MMD -MP
LDLIBS  += -lsqlite3 -lyaml -lz -lcrypto -lpthread -lm
# the daemon's HTTP listener (serve)
LDLIBS  += -lmicrohttpd
# lists fetched from URLs (serve threat intel sets), notifications
LDLIBS  += -lcurl
# ISA-L's inflate when its headers are installed (make deps installs them)
ifneq ($(wildcard /usr/include/isa-l/igzip_lib.h),)
CFLAGS  += -DMM_HAVE_ISAL
LDLIBS  += -lisal
endif
# libmaxminddb for --geoip FILE.mmdb when its headers are installed (make deps installs them)
ifneq ($(wildcard /usr/include/maxminddb.h /usr/include/*/maxminddb.h),)
CFLAGS  += -DMM_HAVE_MAXMINDDB
LDLIBS  += -lmaxminddb
endif
# libsystemd's sd-journal for `mamori agent --journal` when its headers are installed (make deps)
ifneq ($(wildcard /usr/include/systemd/sd-journal.h),)
CFLAGS  += -DMM_HAVE_SYSTEMD
LDLIBS  += -lsystemd
endif

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path 'src/cli/main.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
# the web console's files, embedded: src/serve/assets.S .incbin's web/*
ASSET_OBJ := $(BUILD)/src/serve/assets.o
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 15

PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all deps demo test check fuzz fuzz-build bench clean unit golden samples format install geo

all: $(BUILD)/mamori

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(ASSET_OBJ): src/serve/assets.S $(wildcard web/*)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/libmamori.a: $(LIB_OBJ) $(ASSET_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mamori: $(BUILD)/src/cli/main.o $(BUILD)/libmamori.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/mmtest.o: tests/unit/mmtest.c tests/unit/mmtest.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

# the runner's self-check (tests/unit/mmtest_selftest.c): three tests in a runner that holds two
$(BUILD)/tests/mmtest-selftest: tests/unit/mmtest_selftest.c tests/unit/mmtest.c tests/unit/mmtest.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DMMTEST_MAX=2 -Itests/unit -o $@ tests/unit/mmtest_selftest.c tests/unit/mmtest.c

# the SigV4 driver tests/golden/keys.sh feeds requests signed by botocore (the AWS CLI's signer)
$(BUILD)/tests/sigv4-verify: tests/unit/sigv4_verify.c $(BUILD)/libmamori.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/mmtest.o $(BUILD)/libmamori.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $^ $(LDLIBS)

deps:
	@scripts/deps.sh

unit: $(TEST_BIN) $(BUILD)/mamori
	@scripts/run-tests.sh $(BUILD) $(TEST_BIN)

# every end-to-end suite: tests/golden/*.sh, each given the binary as $$1
golden samples: $(BUILD)/mamori $(BUILD)/tests/mmtest-selftest $(BUILD)/tests/sigv4-verify
	@scripts/run-tests.sh $(BUILD) -- $(BUILD)/mamori

test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(BUILD)/tests/mmtest-selftest $(BUILD)/tests/sigv4-verify
	@scripts/run-tests.sh $(BUILD) $(TEST_BIN) -- $(BUILD)/mamori

check: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/check.sh

fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

# deps first, then a fresh make: it sees the headers deps installed (ISA-L)
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD)/mamori

# IP ownership data (ASN, country) for findings: optional, needs npm and the registry
geo: all
	@scripts/geo.sh $(BUILD)/mamori

bench: all
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)/mamori

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mamori/intel $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/mamori $(DESTDIR)$(PREFIX)/bin/mamori
	install -m 644 data/intel/* $(DESTDIR)$(PREFIX)/share/mamori/intel/
	install -d $(DESTDIR)$(PREFIX)/share/mamori/geo
	install -m 644 data/geo/aws-ranges.txt $(wildcard data/geo/geo.mmgeo data/geo/geo.mmgeo.txt) $(DESTDIR)$(PREFIX)/share/mamori/geo/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build build-san build-fuzz demo-out

-include $(LIB_OBJ:.o=.d)
