# musicgraph — thin wrapper around Meson/Ninja and the scripts (`make help` lists the targets).
#
#   make run         install what is missing, build, serve on http://127.0.0.1:8080
#   make test        everything CI runs on this machine (.ci/run calls it, then test-fresh)
#   make test-fresh  the README's two commands on a fresh Debian 12 root filesystem
#   make bench       load benchmarks; writes bench/results.json
#   make fuzz        the libFuzzer targets, FUZZ_SECONDS each
#
# Releases (docs/operations.md, "Releases"):
#   make dist     dist/musicgraph-VERSION-linux-amd64.tar.gz, -src.tar.gz, SHA256SUMS and, with
#                 MINISIGN_SECRET_KEY=FILE, SHA256SUMS.minisig; reproducible, built from HEAD
#   make image    container image musicgraph:VERSION and :sha-COMMIT from that tarball (buildah)
#   make publish  STORE=DIR|https://HOST/PATH/|s3://BUCKET/PREFIX [PUBLIC_KEY=FILE]: verify the signed dist/ and
#                 copy it to STORE/releases/VERSION/ (never over a published version)
#   make image-push   REPO=registry/name [CHANNEL=dev|staging|production]: push VERSION and
#                 sha-COMMIT, and point CHANNEL at it (production also moves latest)
#   make image-prune  REPO=registry/name [KEEP=5]: keep the newest KEEP per channel and every
#                 version a channel points at; delete the others
#   make version  the version this checkout builds (git describe); make next-version: the next tag

BUILD      ?= build
ASAN_BUILD ?= build-asan
LISTEN     ?= 127.0.0.1:8080
STATE_DIR  ?= ./var
PUBLIC_KEY ?= $(MUSICGRAPH_RELEASE_PUBLIC_KEY)
KEEP       ?= 5

.PHONY: all help deps deps-test build run test test-fresh unit e2e browser fuzz bench clean dist image publish \
	image-push image-prune version next-version

all: build

help:
	@sed -n '3,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

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

# No dependency on deps: dist builds the committed source in a directory of its own.
dist:
	@scripts/dist

image:
	@scripts/image build

# The program from the build directory (make build first on a fresh machine); no deps step.
publish: $(BUILD)/build.ninja
	@test -n "$(STORE)" || { echo "make publish: STORE=DIR, https://HOST/PATH/ or s3://BUCKET/PREFIX is required" >&2; exit 2; }
	@test -n "$(PUBLIC_KEY)" || { echo "make publish: PUBLIC_KEY=FILE (the minisign public key) is required" >&2; exit 2; }
	ninja -C $(BUILD) musicgraph
	$(BUILD)/musicgraph release publish dist --to "$(STORE)" --public-key "$(PUBLIC_KEY)"

image-push:
	@test -n "$(REPO)" || { echo "make image-push: REPO=registry/name is required" >&2; exit 2; }
	scripts/image push "$(REPO)"
	$(if $(CHANNEL),scripts/image promote "$(REPO)" "$$(scripts/image version)" "$(CHANNEL)")

image-prune:
	@test -n "$(REPO)" || { echo "make image-prune: REPO=registry/name is required" >&2; exit 2; }
	scripts/image prune "$(REPO)" --keep "$(KEEP)"

version:
	@scripts/version

next-version:
	@scripts/next-version

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz dist
