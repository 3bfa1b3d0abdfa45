# musicgraph — thin wrapper around Meson/Ninja and the test and bench scripts.
#
#   make run         install what is missing, build, serve on http://127.0.0.1:8080
#   make test        everything CI runs on this machine (.ci/run calls it, then test-fresh)
#   make test-fresh  the README's two commands on a fresh Debian 12 root filesystem
#   make bench       load benchmarks; writes bench/results.json

BUILD      ?= build
ASAN_BUILD ?= build-asan
LISTEN     ?= 127.0.0.1:8080
STATE_DIR  ?= ./var

.PHONY: all deps deps-test build run test test-fresh unit e2e browser fuzz bench clean

all: build

deps:
	@scripts/deps

deps-test:
	@scripts/deps --test

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dtests=false --buildtype=release -Db_ndebug=if-release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) musicgraph

run: build
	@echo "musicgraph: open http://$(LISTEN)/ (Ctrl-C stops it)"
	$(BUILD)/musicgraph serve --listen $(LISTEN) --state-dir $(STATE_DIR)

test: deps-test
	@tests/run

test-fresh:
	@tests/fresh/run

fuzz: deps-test
	@tests/fuzz/run

bench: build deps-test
	@bench/run

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
