# tsrun — OCI runtime in TypeScript.  `make demo` / `make test` set everything up themselves.
PREFIX ?= /usr/local
BUILD := build
LIBDIR := $(BUILD)/lib/tsrun
CC ?= gcc
BUN := node_modules/.bin/bun
TS_SOURCES := $(shell find src -name '*.ts' 2>/dev/null)
SHARED ?= ../shared
RUNTIME ?= $(CURDIR)/$(BUILD)/tsrun

.PHONY: all deps npm-deps apt-deps build demo test soak test-unit conformance bench install uninstall clean rootfs vm-image vm-systemd-image vm-test test-systemd runc-compat-systemd man completions runc-compat runc-compat-deps cri-deps test-cri test-cri-systemd

all: build

# --- dependencies -----------------------------------------------------------
APT_PACKAGES := gcc make libc6-dev libseccomp-dev busybox-static runc uidmap zsh
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

# --splitting: each command's code is its own chunk, loaded only when that command runs.
# No .env/bunfig.toml from the caller's directory (they could redirect TSRUN_LIBDIR); a high
# JIT threshold: a one-shot command runs its code once, compiling it costs more than it saves.
# (without it, every invocation pays for loading all of tsrun: ~8 ms instead of ~4.5 for `state`).
BUN_COMPILE := $(BUN) build --compile --splitting --minify --bytecode --format=esm \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig --compile-jit-policy=1000
# One self-contained file: tsrun-init, the shim and koffi.node are appended to what bun compiled
# (scripts/append-natives.ts; src/native/resources.ts unpacks them when a command needs them). They
# stay in $(LIBDIR) too, for the tests run from the sources.
NATIVES := $(LIBDIR)/tsrun-init $(LIBDIR)/libtsrun-shim.so $(LIBDIR)/koffi/linux_x64/koffi.node
# x86-64: the entry stub that records the caller's RLIMIT_NOFILE before bun raises it.
ENTRY_STUB := $(if $(filter x86_64,$(shell uname -m)),$(BUILD)/entry/nofile-entry.bin)
$(BUILD)/entry/nofile-entry.bin: ffi/entry/nofile-entry.S
	@mkdir -p $(@D)
	$(CC) -c -o $(@:.bin=.o) $<
	objcopy -O binary -j .text $(@:.bin=.o) $@
$(BUILD)/tsrun: $(TS_SOURCES) $(VALIDATORS) $(FFI_OUTPUTS) $(ENTRY_STUB) scripts/append-natives.ts | npm-deps
	@mkdir -p $(LIBDIR)/koffi/linux_x64
	cp node_modules/koffi/build/koffi/linux_x64/koffi.node $(LIBDIR)/koffi/linux_x64/
	$(BUN_COMPILE) \
	  --define TSRUN_COMMIT='"$(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)"' \
	  src/main.ts --outfile $@.bun >/dev/null
	$(BUN) scripts/append-natives.ts $(if $(ENTRY_STUB),--entry $(ENTRY_STUB)) $@.bun $@ $(NATIVES)
	rm -f $@.bun

build: deps $(BUILD)/tsrun

rootfs: apt-deps
	bash bundles/make-rootfs.sh bundles/busybox/rootfs

# --- use --------------------------------------------------------------------
demo: build rootfs
	@echo '$$ build/tsrun run --bundle bundles/busybox demo-$$$$'
	@$(BUILD)/tsrun run --bundle bundles/busybox demo-$$$$

test: build rootfs runc-compat-deps cri-deps
	bash test/run.sh

# runc's own integration suite (../shared/runc-integration) against build/tsrun and Debian's runc
# (test/runc-compat/; `make test` runs it too). This target also writes the table by test name
# into docs/runc-compat.md, with the commit it ran on.
runc-compat-deps: apt-deps
	@$(SHARED)/runc-integration/prepare.sh --install >/dev/null 2>&1 || $(SHARED)/runc-integration/prepare.sh --install

runc-compat: build rootfs runc-compat-deps
	bash test/run.sh test/runc-compat; status=$$?; \
	  bash scripts/runc-compat-doc.sh build/runc-compat docs/runc-compat.md; exit $$status

# The tests that need no kernel, no root and no built executable (test/unit.list), in seconds.
test-unit: npm-deps $(VALIDATORS) $(GENERATED_OPS)
	bash test/run.sh $$(grep -v '^#' test/unit.list)

# tsrun as a containerd CRI runtime handler, driven through the CRI as kubelet does (test/cri/,
# docs/cri.md): containerd 1.6 of its own with handlers runc and tsrun, CNI bridge, a burst of pods.
# cri-deps installs Debian's containerd, containernetworking-plugins and podman (which builds the
# images) and builds the busybox and pause images (test/cri/setup.sh).
cri-deps: apt-deps
	@bash test/cri/setup.sh >/dev/null

test-cri: build rootfs cri-deps
	bash test/run.sh test/cri

# The same CRI checks in the systemd guest, with SystemdCgroup = true (test/vm/cri-systemd.lane.ts): a heavy
# lane of its own (~15 min under TCG), not part of `make test`; results in docs/cri.md.
test-cri-systemd: build rootfs cri-deps
	bash test/run.sh test/vm/cri-systemd.lane.ts

# The robustness campaigns, longer (test/robustness/): 20,000 fuzz cases with a fresh seed, more rounds.
soak: build rootfs
	FUZZ_CASES=20000 FUZZ_SEED=$${FUZZ_SEED:-random} FAULT_ROUNDS=10 RACE_ROUNDS=50 TEST_TIMEOUT=86400 bash test/run.sh test/robustness

# The cgroup v2 suites in a QEMU VM (test/vm/); `make test` runs them too (test/vm/vm.test.ts).
vm-image:
	bash test/vm/setup.sh >/dev/null

# The same image plus the host packages the systemd mode boots (VM_INIT=systemd, test/vm/README.md).
vm-systemd-image:
	bash test/vm/setup.sh --systemd >/dev/null

vm-test: build rootfs
	bash test/run.sh test/vm

# runc's integration suite in the systemd guest, with and without the systemd driver, tsrun against runc:
# a heavy lane (TCG: ~1 h for the cgroup files), not part of `make test`; writes docs/runc-compat-systemd.md.
runc-compat-systemd: build rootfs runc-compat-deps
	$(BUN) scripts/runc-compat-guest.ts $(RUNC_COMPAT_FILES)

# The systemd cgroup driver and the engines with their systemd defaults, in a QEMU guest booted
# with systemd as PID 1 on pure cgroup v2 (test/vm/vm-systemd.test.ts; `make test` runs it too).
test-systemd: build rootfs cri-deps
	bash test/run.sh test/vm/vm-systemd.test.ts

conformance: build rootfs
	RUNTIME=$(RUNTIME) bash conformance/run.sh

# BENCH_ARGS=--quick for a smoke run; see bench/README.md.
bench: build rootfs $(BUILD)/bench/bun-floor
	bash bench/run.sh $(BENCH_ARGS)

# The bench's reference: an empty program compiled like tsrun, i.e. what any tsrun command
# costs before its first line runs.
$(BUILD)/bench/bun-floor: bench/floor.ts | npm-deps
	@mkdir -p $(@D)
	$(BUN_COMPILE) bench/floor.ts --outfile $@ >/dev/null

# --- man pages and shell completion, generated from src/cli/table.ts ------------
MAN_DIR := $(BUILD)/man
COMPLETION_DIR := $(BUILD)/completions
CLI_DEFS := src/cli/table.ts src/cli/globals.ts src/cli/help-text.ts src/cli/help.ts src/cli/version.ts

$(MAN_DIR)/tsrun.8: $(CLI_DEFS) scripts/gen-man.ts | npm-deps
	$(BUN) scripts/gen-man.ts $(MAN_DIR)
man: $(MAN_DIR)/tsrun.8

$(COMPLETION_DIR)/tsrun.bash: $(CLI_DEFS) scripts/gen-completion.ts | npm-deps
	$(BUN) scripts/gen-completion.ts $(COMPLETION_DIR)
completions: $(COMPLETION_DIR)/tsrun.bash

# --- install ----------------------------------------------------------------
# tsrun is one file (its native parts are inside it): bin/tsrun, the man pages, the completions.
MAN8DIR ?= $(PREFIX)/share/man/man8
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR ?= $(PREFIX)/share/zsh/site-functions

install: build man completions
	install -D -m 0755 $(BUILD)/tsrun $(DESTDIR)$(PREFIX)/bin/tsrun
	install -d $(DESTDIR)$(MAN8DIR)
	install -m 0644 $(MAN_DIR)/*.8 $(DESTDIR)$(MAN8DIR)/
	install -D -m 0644 $(COMPLETION_DIR)/tsrun.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/tsrun
	install -D -m 0644 $(COMPLETION_DIR)/_tsrun $(DESTDIR)$(ZSH_COMPLETION_DIR)/_tsrun

# Removes exactly what install put there.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tsrun
	rm -f $(DESTDIR)$(MAN8DIR)/tsrun.8 $(DESTDIR)$(MAN8DIR)/tsrun-*.8
	rm -f $(DESTDIR)$(BASH_COMPLETION_DIR)/tsrun $(DESTDIR)$(ZSH_COMPLETION_DIR)/_tsrun

clean:
	rm -rf $(BUILD)
