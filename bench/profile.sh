#!/usr/bin/env bash
# Where tsrun's time goes: builds build/bench/tsrun-prof (tsrun from the same
# sources, compiled like build/tsrun but without --minify, so profiles name the
# functions) and build/bench/hello (an empty program compiled the same way),
# then runs bench/profile.ts. Writes build/bench/profile/REPORT.md.
#   bench/profile.sh [--n=15]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUN=node_modules/.bin/bun
for p in gcc; do command -v "$p" >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p") >/dev/null; done
[ -x build/tsrun ] || { echo "profile: build/tsrun missing (make build)" >&2; exit 1; }
mkdir -p build/bench
if [ ! -x build/bench/bench-exec ] || [ bench/exec.c -nt build/bench/bench-exec ]; then
  gcc -static -O2 -Wall -Wextra -Werror -o build/bench/bench-exec bench/exec.c
  strip build/bench/bench-exec
fi
"$BUN" build --compile --splitting --bytecode --format=esm \
  --define TSRUN_COMMIT='"profile"' src/main.ts --outfile build/bench/tsrun-prof >/dev/null
printf 'export {};\n' > build/bench/hello.ts
"$BUN" build --compile --minify --bytecode --format=esm build/bench/hello.ts --outfile build/bench/hello >/dev/null
exec "$BUN" bench/profile.ts "$@"
