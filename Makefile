# tsrun — OCI runtime in TypeScript.  `make demo` / `make test` set everything up themselves.
PREFIX ?= /usr/local
BUILD := build
LIBDIR := $(BUILD)/lib/tsrun
CC ?= gcc
BUN := node_modules/.bin/bun
TS_SOURCES := $(shell find src -name '*.ts' 2>/dev/null)
SHARED ?= ../shared
RUNTIME ?= $(CURDIR)/$(BUILD)/tsrun

.PHONY: all deps npm-deps apt-deps build demo test test-unit conformance bench install uninstall clean rootfs

all: build

# --- dependencies -----------------------------------------------------------
APT_PACKAGES := gcc make libc6-dev libseccomp-dev busybox-static runc uidmap
apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; fi

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@
npm-deps: node_modules/.installed

deps: apt-deps npm-deps

# --- build ------------------------------------------------------------------
include ffi/build.mk

VALIDATORS := src/spec/generated/validators.js
$(VALIDATORS): $(wildcard schema/*.json) scripts/build-validators.ts | npm-deps
	$(BUN) scripts/build-validators.ts

# --splitting: each command's code is its own chunk, loaded only when that command runs
# (without it, every invocation pays for loading all of tsrun: ~8 ms instead of ~4.5 for `state`).
$(BUILD)/tsrun: $(TS_SOURCES) $(VALIDATORS) $(FFI_OUTPUTS) | npm-deps
	@mkdir -p $(LIBDIR)/koffi/linux_x64
	cp node_modules/koffi/build/koffi/linux_x64/koffi.node $(LIBDIR)/koffi/linux_x64/
	$(BUN) build --compile --splitting --minify --bytecode --format=esm \
	  --define TSRUN_COMMIT='"$(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)"' \
	  src/main.ts --outfile $@ >/dev/null

build: deps $(BUILD)/tsrun

rootfs: apt-deps
	bash bundles/make-rootfs.sh bundles/busybox/rootfs

# --- use --------------------------------------------------------------------
demo: build rootfs
	@echo '$$ build/tsrun run --bundle bundles/busybox demo-$$$$'
	@$(BUILD)/tsrun run --bundle bundles/busybox demo-$$$$

test: build rootfs
	bash test/run.sh

conformance: build rootfs
	RUNTIME=$(RUNTIME) bash conformance/run.sh

bench: build rootfs
	bash bench/run.sh

install: build
	install -D -m 0755 $(BUILD)/tsrun $(DESTDIR)$(PREFIX)/bin/tsrun
	mkdir -p $(DESTDIR)$(PREFIX)/lib/tsrun
	cp -r $(LIBDIR)/. $(DESTDIR)$(PREFIX)/lib/tsrun/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tsrun
	rm -rf $(DESTDIR)$(PREFIX)/lib/tsrun

clean:
	rm -rf $(BUILD)
