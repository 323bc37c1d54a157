// A D-Bus client on libsystemd's sd-bus (libsystemd.so.0, on every systemd host), through koffi,
// loaded only by the systemd cgroup driver. Calls are synchronous, with a timeout; values are
// marshalled from a D-Bus signature (the Variant shape of cgroups/systemd/properties.ts).
// Why sd-bus and not a JavaScript D-Bus library: docs/ARCHITECTURE.md, "Libraries chosen".
import { koffi as loadKoffi } from './koffi.js';

/** A D-Bus value and its signature: s/o/g -> string, b -> boolean, t/x -> bigint, other numbers ->
 * number, ay -> Uint8Array (or number[]), a... -> array, (...) -> array of the members, v -> Variant. */
export interface Variant {
  sig: string;
  value: unknown;
}

/** A D-Bus error reply (name such as org.freedesktop.systemd1.UnitExists) or a local failure. */
export class BusError extends Error {
  constructor(
    message: string,
    readonly busName: string | undefined,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

export interface Signal {
  sender: string | undefined;
  path: string | undefined;
  iface: string | undefined;
  member: string | undefined;
  /** The body read with the signature the caller asked for. */
  read(sig: string): unknown[];
}

export interface Bus {
  /** Calls a method; the reply's body is read with replySig (its leading values only). */
  call(dest: string, path: string, iface: string, member: string, sig: string, args: readonly unknown[], replySig?: string, timeoutMs?: number): unknown[];
  /** The next signal (or other message that is no reply) within timeoutMs; undefined at the deadline. */
  nextSignal(timeoutMs: number): Signal | undefined;
  close(): void;
}

type Fn = (...args: unknown[]) => unknown;
interface SdBus {
  openSystem: Fn;
  openUser: Fn;
  newCall: Fn;
  appendBasic: Fn;
  appendArray: Fn;
  openContainer: Fn;
  closeContainer: Fn;
  call: Fn;
  readString: Fn;
  readU64: Fn;
  readU32: Fn;
  readI32: Fn;
  readDouble: Fn;
  peekType: Fn;
  enter: Fn;
  exit: Fn;
  unref: Fn;
  close: Fn;
  process: Fn;
  wait: Fn;
  getMember: Fn;
  getPath: Fn;
  getInterface: Fn;
  getSender: Fn;
  isSignal: Fn;
  errorFree: Fn;
  strerror: Fn;
  koffi: ReturnType<typeof loadKoffi>;
}

let lib: SdBus | undefined;

function load(): SdBus {
  if (lib) return lib;
  const k = loadKoffi();
  let so;
  try {
    so = k.load('libsystemd.so.0');
  } catch (e) {
    throw new BusError(`cannot load libsystemd.so.0 (the systemd cgroup driver needs systemd's library): ${(e as Error).message}`, undefined);
  }
  k.struct('tsrun_sd_bus_error', { name: 'const char *', message: 'const char *', need_free: 'int' });
  lib = {
    koffi: k,
    openSystem: so.func('int sd_bus_open_system(_Out_ void **ret)'),
    openUser: so.func('int sd_bus_open_user(_Out_ void **ret)'),
    newCall: so.func('int sd_bus_message_new_method_call(void *bus, _Out_ void **m, const char *dest, const char *path, const char *iface, const char *member)'),
    appendBasic: so.func('int sd_bus_message_append_basic(void *m, char type, const void *p)'),
    appendArray: so.func('int sd_bus_message_append_array(void *m, char type, const void *ptr, size_t size)'),
    openContainer: so.func('int sd_bus_message_open_container(void *m, char type, const char *contents)'),
    closeContainer: so.func('int sd_bus_message_close_container(void *m)'),
    call: so.func('int sd_bus_call(void *bus, void *m, uint64_t usec, void *err, _Out_ void **reply)'),
    readString: so.func('sd_bus_message_read_basic', 'int', ['void *', 'char', '_Out_ const char **']),
    readU64: so.func('sd_bus_message_read_basic', 'int', ['void *', 'char', '_Out_ uint64_t *']),
    readU32: so.func('sd_bus_message_read_basic', 'int', ['void *', 'char', '_Out_ uint32_t *']),
    readI32: so.func('sd_bus_message_read_basic', 'int', ['void *', 'char', '_Out_ int32_t *']),
    readDouble: so.func('sd_bus_message_read_basic', 'int', ['void *', 'char', '_Out_ double *']),
    peekType: so.func('int sd_bus_message_peek_type(void *m, _Out_ char *type, _Out_ const char **contents)'),
    enter: so.func('int sd_bus_message_enter_container(void *m, char type, const char *contents)'),
    exit: so.func('int sd_bus_message_exit_container(void *m)'),
    unref: so.func('void *sd_bus_message_unref(void *m)'),
    close: so.func('void *sd_bus_flush_close_unref(void *bus)'),
    process: so.func('int sd_bus_process(void *bus, _Out_ void **ret)'),
    wait: so.func('int sd_bus_wait(void *bus, uint64_t timeout_usec)'),
    getMember: so.func('const char *sd_bus_message_get_member(void *m)'),
    getPath: so.func('const char *sd_bus_message_get_path(void *m)'),
    getInterface: so.func('const char *sd_bus_message_get_interface(void *m)'),
    getSender: so.func('const char *sd_bus_message_get_sender(void *m)'),
    isSignal: so.func('int sd_bus_message_is_signal(void *m, const char *iface, const char *member)'),
    errorFree: so.func('void sd_bus_error_free(void *err)'),
    strerror: so.func('const char *strerror(int errnum)'),
  };
  return lib;
}

const code = (t: string): number => t.charCodeAt(0);

/** Opens the system bus, or the user's session bus (the user's own systemd instance). */
export function openBus(user: boolean): Bus {
  const sd = load();
  const out: unknown[] = [null];
  const r = (user ? sd.openUser : sd.openSystem)(out) as number;
  if (r < 0) {
    const where = user ? 'the user session bus ($DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus)' : 'the system bus';
    throw new BusError(`connect to ${where}: ${errText(sd, r)}`, undefined);
  }
  return new SdBusConnection(sd, out[0]);
}

function errText(sd: SdBus, r: number): string {
  return String(sd.strerror(-r)).toLowerCase();
}

class SdBusConnection implements Bus {
  constructor(
    private readonly sd: SdBus,
    private bus: unknown,
  ) {}

  /** The last signal handed out; freed at the next nextSignal() or close(). */
  private held: unknown = null;

  private release(): void {
    if (this.held) this.sd.unref(this.held);
    this.held = null;
  }

  call(dest: string, path: string, iface: string, member: string, sig: string, args: readonly unknown[], replySig = '', timeoutMs = 25000): unknown[] {
    const sd = this.sd;
    const what = `${iface}.${member}`;
    const out: unknown[] = [null];
    let r = sd.newCall(this.bus, out, dest, path, iface, member) as number;
    if (r < 0) throw new BusError(`${what}: new message: ${errText(sd, r)}`, undefined);
    const m = out[0];
    try {
      const types = splitSignature(sig);
      if (types.length !== args.length) throw new BusError(`${what}: ${args.length} arguments for signature ${sig}`, undefined);
      types.forEach((t, i) => this.append(m, t, args[i], what));
      const k = sd.koffi;
      const errp = k.alloc('tsrun_sd_bus_error', 1);
      const reply: unknown[] = [null];
      try {
        k.encode(errp, 'tsrun_sd_bus_error', { name: null, message: null, need_free: 0 });
        r = sd.call(this.bus, m, BigInt(timeoutMs) * 1000n, errp, reply) as number;
        if (r < 0) {
          const e = k.decode(errp, 'tsrun_sd_bus_error') as { name: string | null; message: string | null };
          throw new BusError(`${what}: ${e.message ?? errText(sd, r)}${e.name ? ` (${e.name})` : ''}`, e.name ?? undefined);
        }
      } finally {
        sd.errorFree(errp);
        k.free(errp);
      }
      try {
        return this.read(reply[0], replySig, what);
      } finally {
        sd.unref(reply[0]);
      }
    } finally {
      sd.unref(m);
    }
  }

  nextSignal(timeoutMs: number): Signal | undefined {
    const sd = this.sd;
    const deadline = Date.now() + timeoutMs;
    this.release();
    for (;;) {
      const out: unknown[] = [null];
      const r = sd.process(this.bus, out) as number;
      if (r < 0) throw new BusError(`read from the bus: ${errText(sd, r)}`, undefined);
      if (out[0]) {
        const m = out[0];
        this.held = m;
        const sig: Signal = {
          sender: (sd.getSender(m) as string | null) ?? undefined,
          path: (sd.getPath(m) as string | null) ?? undefined,
          iface: (sd.getInterface(m) as string | null) ?? undefined,
          member: (sd.getMember(m) as string | null) ?? undefined,
          read: (s) => this.read(m, s, `signal ${String(sd.getMember(m))}`),
        };
        return sig;
      }
      if (r > 0) continue; // more to process
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      const w = sd.wait(this.bus, BigInt(left) * 1000n) as number;
      if (w < 0) throw new BusError(`wait for the bus: ${errText(sd, w)}`, undefined);
    }
  }

  close(): void {
    this.release();
    if (this.bus) this.sd.close(this.bus);
    this.bus = null;
  }

  private append(m: unknown, t: string, v: unknown, what: string): void {
    const sd = this.sd;
    const check = (r: number) => {
      if (r < 0) throw new BusError(`${what}: append a ${t}: ${errText(sd, r)}`, undefined);
    };
    const c = t[0]!;
    if (c === 'a') {
      const elem = t.slice(1);
      if (elem === 'y') {
        const bytes = v instanceof Uint8Array ? v : Uint8Array.from(v as number[]);
        check(sd.appendArray(m, code('y'), Buffer.from(bytes), bytes.length) as number);
        return;
      }
      check(sd.openContainer(m, code('a'), elem) as number);
      for (const item of v as unknown[]) this.append(m, elem, item, what);
      check(sd.closeContainer(m) as number);
      return;
    }
    if (c === '(') {
      const members = splitSignature(t.slice(1, -1));
      check(sd.openContainer(m, code('r'), t.slice(1, -1)) as number);
      members.forEach((mt, i) => this.append(m, mt, (v as unknown[])[i], what));
      check(sd.closeContainer(m) as number);
      return;
    }
    if (c === 'v') {
      const inner = v as Variant;
      check(sd.openContainer(m, code('v'), inner.sig) as number);
      this.append(m, inner.sig, inner.value, what);
      check(sd.closeContainer(m) as number);
      return;
    }
    check(sd.appendBasic(m, code(c), basicBuffer(c, v)) as number);
  }

  /** Reads the leading values of a message for sig. */
  private read(m: unknown, sig: string, what: string): unknown[] {
    return splitSignature(sig).map((t) => {
      const v = this.readValue(m, t, what);
      if (v === END) throw new BusError(`${what}: the reply has no ${t}`, undefined);
      return v;
    });
  }

  /** One value of type t: arrays and structs as arrays, a variant as {sig, value}; END at the end of its container. */
  private readValue(m: unknown, t: string, what: string): unknown {
    const sd = this.sd;
    const check = (r: number): number => {
      if (r < 0) throw new BusError(`${what}: read a ${t}: ${errText(sd, r)}`, undefined);
      return r;
    };
    const c = t[0]!;
    if (c === 'a' || c === '(' || c === 'v') {
      let contents = c === 'a' ? t.slice(1) : t.slice(1, -1);
      if (c === 'v') {
        const type: unknown[] = [0];
        const inner: unknown[] = [null];
        if (check(sd.peekType(m, type, inner) as number) === 0) return END;
        contents = String(inner[0]);
      }
      if (check(sd.enter(m, code(c === '(' ? 'r' : c), contents) as number) === 0) return END;
      let value: unknown;
      if (c === 'a') {
        const items: unknown[] = [];
        for (let v = this.readValue(m, contents, what); v !== END; v = this.readValue(m, contents, what)) items.push(v);
        value = items;
      } else if (c === '(') {
        value = splitSignature(contents).map((mt) => this.readValue(m, mt, what));
      } else {
        value = { sig: contents, value: this.readValue(m, contents, what) } satisfies Variant;
      }
      check(sd.exit(m) as number);
      return value;
    }
    const out: unknown[] = [null];
    let r: number;
    switch (c) {
      case 's':
      case 'o':
      case 'g':
        r = check(sd.readString(m, code(c), out) as number);
        break;
      case 't':
      case 'x':
        r = check(sd.readU64(m, code(c), out) as number);
        out[0] = BigInt(out[0] as number | bigint);
        break;
      case 'u':
        r = check(sd.readU32(m, code(c), out) as number);
        break;
      case 'i':
      case 'b':
      case 'h':
        r = check(sd.readI32(m, code(c), out) as number);
        if (c === 'b') out[0] = out[0] !== 0;
        break;
      case 'd':
        r = check(sd.readDouble(m, code(c), out) as number);
        break;
      default:
        throw new BusError(`${what}: cannot read a ${t}`, undefined);
    }
    return r === 0 ? END : out[0];
  }
}

const END = Symbol('end');

/** Fixed-size basic types: their size and how a value is written (little-endian, as on x86-64). */
const FIXED: Record<string, [number, (b: Buffer, v: unknown) => unknown]> = {
  b: [4, (b, v) => b.writeInt32LE(v ? 1 : 0)],
  y: [1, (b, v) => b.writeUInt8(Number(v))],
  n: [2, (b, v) => b.writeInt16LE(Number(v))],
  q: [2, (b, v) => b.writeUInt16LE(Number(v))],
  i: [4, (b, v) => b.writeInt32LE(Number(v))],
  h: [4, (b, v) => b.writeInt32LE(Number(v))],
  u: [4, (b, v) => b.writeUInt32LE(Number(v))],
  x: [8, (b, v) => b.writeBigInt64LE(BigInt(v as bigint | number))],
  t: [8, (b, v) => b.writeBigUInt64LE(BigInt(v as bigint | number))],
  d: [8, (b, v) => b.writeDoubleLE(Number(v))],
};

/** The bytes sd_bus_message_append_basic reads for a basic type (strings: the C string itself). */
function basicBuffer(c: string, v: unknown): Buffer {
  if (c === 's' || c === 'o' || c === 'g') return Buffer.from(`${String(v)}\0`, 'utf8');
  const fixed = FIXED[c];
  if (!fixed) throw new BusError(`cannot append a value of type ${c}`, undefined);
  const b = Buffer.alloc(fixed[0]);
  fixed[1](b, v);
  return b;
}

/** "sa(ss)u" -> ["s", "a(ss)", "u"]. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  const one = (): void => {
    const c = sig[i++];
    if (c === 'a') return one();
    if (c === '(' || c === '{') {
      const close = c === '(' ? ')' : '}';
      while (sig[i] !== close) {
        if (i >= sig.length) throw new BusError(`bad signature ${sig}`, undefined);
        one();
      }
      i++;
    }
  };
  while (i < sig.length) {
    const start = i;
    one();
    out.push(sig.slice(start, i));
  }
  return out;
}
