# C parts of tsrun (ffi/PLAN.md); included by the top Makefile.
FFI_LIBDIR := build/lib/tsrun
FFI_CFLAGS := -Wall -Wextra -Werror -Wno-format-zero-length
FFI_OUTPUTS := $(FFI_LIBDIR)/libtsrun-shim.so $(FFI_LIBDIR)/tsrun-init

# The op table's generated files (committed; test/native/op-table.test.ts fails when they are stale).
GENERATED_OPS := ffi/init/op-table.h ffi/init/op-table.c src/native/ops.ts ffi/PLAN.md
$(GENERATED_OPS) &: src/native/op-table.ts scripts/gen-ops.ts | npm-deps
	node_modules/.bin/bun scripts/gen-ops.ts

$(FFI_LIBDIR)/libtsrun-shim.so: ffi/shim/shim.c ffi/plan.h
	@mkdir -p $(FFI_LIBDIR)
	$(CC) -O2 -fPIC -shared $(FFI_CFLAGS) -o $@ ffi/shim/shim.c

$(FFI_LIBDIR)/tsrun-init: $(wildcard ffi/init/*.c) $(wildcard ffi/init/*.h) ffi/plan.h ffi/init/op-table.h ffi/init/op-table.c
	@mkdir -p $(FFI_LIBDIR)
	$(CC) -static -Os $(FFI_CFLAGS) -o $@ $(filter %.c,$^)
	strip $@
