// Encodes a launch plan (a list of ops) into the binary form tsrun-init reads.
import { Op, type OpCode } from './ops.js';

export interface PlanOp {
  op: OpCode;
  flags?: number;
  ints?: Array<number | bigint>;
  strs?: Array<string | Uint8Array>;
  /** Human wording of this step for error messages, e.g. `mount "proc" on "/proc"`. */
  what: string;
}

const encoder = new TextEncoder();

export function encodePlan(ops: readonly PlanOp[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 12;
  const head = new Uint8Array(12);
  head.set(encoder.encode('TSRP'), 0);
  const hv = new DataView(head.buffer);
  hv.setUint32(4, 1, true);
  hv.setUint32(8, ops.length, true);
  parts.push(head);
  for (const o of ops) {
    const ints = o.ints ?? [];
    const strs = (o.strs ?? []).map((s) => (typeof s === 'string' ? encoder.encode(s) : s));
    const recLen = 8 + ints.length * 8 + strs.reduce((n, s) => n + 5 + s.length, 0);
    const rec = new Uint8Array(recLen);
    const dv = new DataView(rec.buffer);
    dv.setUint16(0, o.op, true);
    dv.setUint16(2, o.flags ?? 0, true);
    dv.setUint16(4, ints.length, true);
    dv.setUint16(6, strs.length, true);
    let off = 8;
    for (const i of ints) {
      dv.setBigInt64(off, BigInt(i), true);
      off += 8;
    }
    for (const s of strs) {
      dv.setUint32(off, s.length, true);
      rec.set(s, off + 4);
      off += 5 + s.length; // trailing NUL already zero
    }
    parts.push(rec);
    size += recLen;
  }
  const out = new Uint8Array(size + 4);
  new DataView(out.buffer).setUint32(0, size, true);
  let off = 4;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const opName: Record<number, string> = Object.fromEntries(
  Object.entries(Op).map(([k, v]) => [v, k]),
);

// After a FORK op the process that goes on is not the one the parent spawned, and the plan was
// sent before the fork: in the state JSON of HOOK stdin and of the SECCOMP listener, the byte
// 0x01 (never raw in JSON text) stands for the pid that only tsrun-init then knows. Put
// pidInInit() where the pid goes, then serialise with initJson().
let pidToken: string | undefined;

/** A stand-in for the container process's pid in a value given to initJson(). */
export function pidInInit(): number {
  pidToken ??= `tsrun-pid-${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  // typed as the number it stands for; initJson() replaces it
  return pidToken as unknown as number;
}

/** JSON.stringify, with each pidInInit() as the raw byte 0x01 for tsrun-init to replace. */
export function initJson(value: unknown): string {
  const json = JSON.stringify(value);
  return pidToken === undefined ? json : json.replaceAll(`"${pidToken}"`, '\x01');
}
