// runc `update` resource flags -> linux.resources (runc update.go; sizes parsed like docker/go-units RAMInBytes).
import type { Resources } from '../spec/types.js';

export class UpdateFlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpdateFlagError';
  }
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512", "512k", "1.5g", "1 GiB", "64MB"; binary multiples, case-insensitive. */
export function parseRAMInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new UpdateFlagError(`invalid size: '${size}'`);
  const num = size[sep] === ' ' ? size.slice(0, sep) : size.slice(0, sep + 1);
  let sfx = size.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new UpdateFlagError(`invalid size: '${size}'`);
  let value = Number(num);
  if (value < 0) throw new UpdateFlagError(`invalid size: '${size}'`);
  if (sfx === '') return Math.trunc(value);
  const bad = (): never => {
    throw new UpdateFlagError(`invalid suffix: '${sfx}'`);
  };
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) bad();
    return Math.trunc(value);
  }
  const mul = BINARY[sfx[0]!];
  if (mul === undefined) bad();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) bad();
  value *= mul!;
  return Math.trunc(value);
}

function parseUintFlag(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new UpdateFlagError(`invalid value for ${name}: ${JSON.stringify(v)} is not an unsigned integer`);
  return Number(v);
}

function parseIntFlag(name: string, v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new UpdateFlagError(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

function parseSizeFlag(name: string, v: string): number {
  if (v === '-1') return -1;
  try {
    return parseRAMInBytes(v);
  } catch (e) {
    throw new UpdateFlagError(`invalid value for ${name}: ${(e as Error).message}`);
  }
}

/** "--cpu-shares", "cpu-shares" and "cpuShares" all name the same flag. */
function normalize(flags: Record<string, string | undefined>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    const key = k.replace(/^-+/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    m.set(key, String(v));
  }
  return m;
}

/**
 * The resources named by runc's `update` flags, only those given. Empty strings mean "not given"
 * (runc's string flags). runc spells the shares flag --cpu-share; --cpu-shares is accepted too.
 */
export function resourcesFromUpdateFlags(flags: Record<string, string | undefined>): Resources {
  const f = normalize(flags);
  const get = (name: string): string | undefined => {
    const v = f.get(name);
    return v === undefined || v === '' ? undefined : v;
  };
  const r: Resources = {};
  const cpu = (): NonNullable<Resources['cpu']> => (r.cpu ??= {});
  const mem = (): NonNullable<Resources['memory']> => (r.memory ??= {});

  let v: string | undefined;
  if ((v = get('blkio-weight')) !== undefined) {
    const w = parseIntFlag('blkio-weight', v);
    if (w !== 0) r.blockIO = { weight: w };
  }
  if ((v = get('cpuset-cpus')) !== undefined) cpu().cpus = v;
  if ((v = get('cpuset-mems')) !== undefined) cpu().mems = v;
  if ((v = get('cpu-idle')) !== undefined) cpu().idle = parseIntFlag('cpu-idle', v);
  if ((v = get('cpu-period')) !== undefined) cpu().period = parseUintFlag('cpu-period', v);
  if ((v = get('cpu-rt-period')) !== undefined) cpu().realtimePeriod = parseUintFlag('cpu-rt-period', v);
  if ((v = get('cpu-share') ?? get('cpu-shares')) !== undefined) cpu().shares = parseUintFlag('cpu-share', v);
  if ((v = get('cpu-burst')) !== undefined) cpu().burst = parseUintFlag('cpu-burst', v);
  if ((v = get('cpu-quota')) !== undefined) cpu().quota = parseIntFlag('cpu-quota', v);
  if ((v = get('cpu-rt-runtime')) !== undefined) cpu().realtimeRuntime = parseIntFlag('cpu-rt-runtime', v);

  const sizes: Array<[string, 'limit' | 'swap' | 'kernel' | 'kernelTCP' | 'reservation']> = [
    ['memory', 'limit'],
    ['memory-swap', 'swap'],
    ['kernel-memory', 'kernel'],
    ['kernel-memory-tcp', 'kernelTCP'],
    ['memory-reservation', 'reservation'],
  ];
  for (const [name, key] of sizes) {
    if ((v = get(name)) !== undefined) mem()[key] = parseSizeFlag(name, v);
  }
  if ((v = get('pids-limit')) !== undefined) r.pids = { limit: parseIntFlag('pids-limit', v) };

  // Intel RDT is linux.intelRdt, not a cgroup: no resctrl support here, so refuse like runc does without it.
  if (get('l3-cache-schema') !== undefined) throw new UpdateFlagError('Intel RDT/CAT: l3 cache schema is not enabled');
  if (get('mem-bw-schema') !== undefined) throw new UpdateFlagError('Intel RDT/MBA: memory bandwidth schema is not enabled');
  return r;
}
