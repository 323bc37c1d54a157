// Compiled by `make bench` with tsrun's own bun flags into build/bench/bun-floor: an executable
// that does nothing, so its time is the start and exit of any bun executable, tsrun's floor.
export {};
