# Front door. Every target installs what is missing first (scripts/bootstrap.sh).
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= codec private config web replay
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS    ?=

.PHONY: all build run demo test test-unit sanitize bench fmt fmt-check lint fuzz clean bootstrap bootstrap-test

all: build

bootstrap:
	@scripts/bootstrap.sh

bootstrap-test:
	@scripts/bootstrap.sh --test

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: bootstrap $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# The bot: paper mode on live Kraken data unless .env says otherwise.
run: build
	@scripts/first-run.sh $(BUILD)/arbitrade
	$(BUILD)/arbitrade run $(ARGS)

# Offline: the bundled simulator plus the bot pointed at it, with the dashboard.
demo: build
	scripts/demo.sh $(BUILD)/arbitrade

test: bootstrap-test $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(ARGS)

# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
sanitize: bootstrap-test
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DARB_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE nosan $(ARGS)

bench: build
	scripts/bench.sh $(BUILD)/arbitrade

fmt:
	@git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c' 'fuzz/*.h' | xargs clang-format -i

fmt-check:
	@git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c' 'fuzz/*.h' | xargs clang-format --dry-run --Werror

# Format check, banned calls, include layering, cppcheck and the secret scan.
lint: bootstrap-test
	@tools/lint.sh

# libFuzzer targets (fuzz/), FUZZ_SECONDS each, in a separate clang build.
fuzz: bootstrap-test
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_FUZZ=ON -DARB_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@tools/fuzz.sh $(FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
