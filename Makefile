# The two commands a new user needs (as root on a fresh Debian machine):
#   make demo   set up a central and a device in a temporary folder and run the demo
#   make test   build, check, analyse, replay the fuzz corpora and run every test
# Both install the Debian packages they lack first.

JOBS    ?= $(shell nproc)
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
ANALYZE ?= build-analyze
FUZZ_SECONDS ?= 10

# Warnings are errors in CI only (CI=true), never in a user's build: a newer compiler may warn
# about code an older one accepted. Passed on every configure so the cache never keeps it.
WERROR = -DOUTPOST_WERROR=$(if $(filter-out false 0 no,$(CI)),ON,OFF)

PREFIX  ?= /usr/local
DESTDIR ?=
DEB     ?= outpost.deb

.PHONY: all deps build test hardening analyze layers test-asan fuzz-replay fuzz demo bench \
        clean format install deb

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(WERROR) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The gate, in this order (one step after the other, even under make -j): the optimised build
# (gcc -O2 finds warnings that -O0 does not) and its hardening, the layer check, the static
# analysis, the fuzz targets over their corpora, then every test with sanitizers, last, so
# that the run ends with CTest's summary. Every step is deterministic: the same tree gives the
# same answer twice.
test: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory hardening
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory analyze
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory test-asan

# The optimised binary has the hardening of a network daemon (PIE, full RELRO, stack
# protector, fortified libc calls).
hardening: build
	@sh scripts/check-hardening.sh $(BUILD)/outpost

# No layer includes a header of a layer above it; src/cli holds no SQL and no transaction.
layers:
	@sh scripts/check-layers.sh .

# clang's static analyser over everything the binary is built from; a finding fails the gate.
# The build folder is cleaned first so that every file is analysed on every run.
analyze: deps
	@scan-build -o $(ANALYZE)/report cmake -S . -B $(ANALYZE) -DCMAKE_BUILD_TYPE=Debug \
	    $(WERROR) >/dev/null
	@scan-build --status-bugs -o $(ANALYZE)/report \
	    cmake --build $(ANALYZE) -j $(JOBS) --target outpost --clean-first

test-asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON $(WERROR) >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# The libFuzzer targets (clang, ASan, UBSan), each run once over every file of its corpus.
fuzz-replay: deps
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_FUZZ=ON $(WERROR) >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS)
	@sh tests/fuzz/run.sh $(FUZZ) replay

# Timed fuzzing, not part of the gate: every target for FUZZ_SECONDS each
# (make fuzz FUZZ_SECONDS=3600 for a long run).
fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_FUZZ=ON $(WERROR) >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS)
	@sh tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

# The binary, the systemd units (naming PREFIX/bin/outpost), outpost(1) and the documents
# under DESTDIR/PREFIX; the Debian package of the same files with the service user's set-up
# (dist/debian). docs/setup.md, "From the Debian package".
install: build
	@PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) sh scripts/install.sh $(BUILD)

deb: build
	@sh scripts/make-deb.sh $(BUILD) $(DEB)

demo: build
	@sh scripts/demo.sh $(BUILD)/outpost

bench: build
	@sh bench/run.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) $(ANALYZE)
