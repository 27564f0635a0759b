# The two commands a new user needs (as root on a fresh Debian machine):
#   make demo   set up a central and a device in a temporary folder and run the demo
#   make test   build with sanitizers and run every test
# Both install the Debian packages they lack first.

JOBS    ?= $(shell nproc)
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
FUZZ_SECONDS ?= 10

.PHONY: all deps build test test-asan fuzz-brief fuzz demo bench clean format

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The optimised build too (gcc -O2 finds warnings that -O0 does not), then brief fuzzing, then
# every test with sanitizers, last, so that the run ends with CTest's summary.
test: deps build fuzz-brief test-asan

test-asan:
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=3600 for a long run).
fuzz-brief fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS)
	@sh tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

demo: build
	@sh scripts/demo.sh $(BUILD)/outpost

bench: build
	@sh bench/run.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
