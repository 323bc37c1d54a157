// org.systemd.property.NAME annotations (runc docs/systemd.md): the value is GVariant text
// ("uint64 123", "'inactive-or-failed'", "true", "['a', 'b']", "@as []"), read here into a
// D-Bus value the way godbus's ParseVariant does for runc.
import { CgroupError } from '../fs.js';
import { splitSignature, type Variant } from '../../native/sd-bus.js';
import type { UnitProperty } from './properties.js';

const PREFIX = 'org.systemd.property.';

const NUMBER_KEYWORDS: Record<string, string> = {
  byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd', handle: 'h',
};
const RANGES: Record<string, [bigint, bigint]> = {
  y: [0n, 255n], n: [-(2n ** 15n), 2n ** 15n - 1n], q: [0n, 2n ** 16n - 1n], i: [-(2n ** 31n), 2n ** 31n - 1n],
  u: [0n, 2n ** 32n - 1n], x: [-(2n ** 63n), 2n ** 63n - 1n], t: [0n, 2n ** 64n - 1n], h: [-(2n ** 31n), 2n ** 31n - 1n],
};

/** The unit properties the annotations ask for, runc's initSystemdProps (Sec -> USec included). */
export function annotationProperties(annotations: Record<string, string> | undefined): UnitProperty[] {
  const out: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(PREFIX)) continue;
    let name = key.slice(PREFIX.length);
    if (name.length < 3) throw new CgroupError(`annotation ${key} name incorrect: too short`);
    if (!/^[A-Za-z]+$/.test(name)) throw new CgroupError(`annotation ${key} name incorrect: contains non-alphabetic character`);
    let v: Variant;
    try {
      v = parseGVariant(text);
    } catch (e) {
      throw new CgroupError(`annotation ${key}=${text} value parse error: ${(e as Error).message}`);
    }
    // systemd documents e.g. TimeoutStopSec, but its D-Bus property is TimeoutStopUSec.
    const m = /^(.*[a-z])Sec$/.exec(name);
    if (m) {
      name = `${m[1]}USec`;
      if (!(v.sig in RANGES) && v.sig !== 'd') throw new CgroupError(`annotation ${key}=${text} value parse error: not a number`);
      v = { sig: 't', value: v.sig === 'd' ? BigInt(Math.floor((v.value as number) * 1e6)) : BigInt(v.value as bigint | number) * 1000000n };
    }
    out.push({ name, ...v });
  }
  return out;
}

/** One GVariant text value; numbers without a type keyword are int32 (or double), as in GLib. */
export function parseGVariant(text: string): Variant {
  const p = new Parser(text);
  const v = p.value(undefined);
  p.skip();
  if (!p.done()) throw new Error(`unexpected ${JSON.stringify(p.rest())}`);
  return v;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}
  done(): boolean {
    return this.i >= this.s.length;
  }
  rest(): string {
    return this.s.slice(this.i);
  }
  skip(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  private word(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }
  private peekWord(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    return m ? m[0] : '';
  }

  /** A value, of type `want` when the context fixes it (array elements, @-annotations). */
  value(want: string | undefined): Variant {
    this.skip();
    const c = this.s[this.i];
    if (c === undefined) throw new Error('unexpected end');
    if (c === '@') {
      this.i++;
      const sig = this.signature();
      return this.value(sig);
    }
    const kw = this.peekWord();
    if (kw in NUMBER_KEYWORDS) {
      this.word();
      return this.value(NUMBER_KEYWORDS[kw]);
    }
    if (kw === 'true' || kw === 'false') {
      this.word();
      if (want !== undefined && want !== 'b') throw new Error(`boolean where ${want} is wanted`);
      return { sig: 'b', value: kw === 'true' };
    }
    if (kw === 'objectpath' || kw === 'signature') {
      this.word();
      const s = this.value('s');
      return { sig: kw === 'objectpath' ? 'o' : 'g', value: s.value };
    }
    if (c === "'" || c === '"') {
      const str = this.string();
      if (want !== undefined && !['s', 'o', 'g'].includes(want)) throw new Error(`string where ${want} is wanted`);
      return { sig: want ?? 's', value: str };
    }
    if (c === '[') return this.array(want);
    if (c === '(') return this.tuple(want);
    if (/[-+0-9.]/.test(c)) return this.number(want);
    throw new Error(`unexpected ${JSON.stringify(this.rest())}`);
  }

  private string(): string {
    const q = this.s[this.i++];
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) throw new Error('unterminated string');
      if (c === q) return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07' };
        if (e === 'u' || e === 'U') {
          const n = e === 'u' ? 4 : 8;
          out += String.fromCodePoint(parseInt(this.s.slice(this.i, this.i + n), 16));
          this.i += n;
        } else out += e !== undefined && e in map ? map[e] : (e ?? '');
        continue;
      }
      out += c;
    }
  }

  private number(want: string | undefined): Variant {
    const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)/.exec(this.rest());
    if (!m) throw new Error(`bad number ${JSON.stringify(this.rest())}`);
    this.i += m[0].length;
    const text = m[0];
    const isFloat = /[.eE]/.test(text) && !/0x/i.test(text);
    const sig = want ?? (isFloat ? 'd' : 'i');
    if (sig === 'd') return { sig, value: Number(text) };
    if (isFloat) throw new Error(`${text} is not an integer`);
    const range = RANGES[sig];
    if (!range) throw new Error(`number where ${sig} is wanted`);
    const neg = text.startsWith('-');
    const n = BigInt(text.replace(/^[-+]/, '')) * (neg ? -1n : 1n);
    if (n < range[0] || n > range[1]) throw new Error(`${text} is out of range for ${sig}`);
    return { sig, value: sig === 'x' || sig === 't' ? n : Number(n) };
  }

  private array(want: string | undefined): Variant {
    if (want !== undefined && !want.startsWith('a')) throw new Error(`array where ${want} is wanted`);
    this.i++; // [
    let elem = want?.slice(1);
    const items: unknown[] = [];
    this.skip();
    if (this.s[this.i] === ']') {
      this.i++;
      if (elem === undefined) throw new Error('an empty array needs a type: @as []');
      return { sig: `a${elem}`, value: elem === 'y' ? new Uint8Array() : [] };
    }
    for (;;) {
      const v = this.value(elem);
      elem ??= v.sig;
      if (v.sig !== elem) throw new Error(`array of ${elem} has a ${v.sig}`);
      items.push(v.value);
      this.skip();
      const c = this.s[this.i++];
      if (c === ']') break;
      if (c !== ',') throw new Error(`expected , or ] at ${JSON.stringify(this.s.slice(this.i - 1))}`);
    }
    return { sig: `a${elem}`, value: elem === 'y' ? Uint8Array.from(items as number[]) : items };
  }

  private tuple(want: string | undefined): Variant {
    this.i++; // (
    const members = want ? splitSignature(want.slice(1, -1)) : undefined;
    const sigs: string[] = [];
    const values: unknown[] = [];
    this.skip();
    if (this.s[this.i] === ')') {
      this.i++;
      return { sig: '()', value: [] };
    }
    for (let k = 0; ; k++) {
      const v = this.value(members?.[k]);
      sigs.push(v.sig);
      values.push(v.value);
      this.skip();
      const c = this.s[this.i++];
      if (c === ')') break;
      if (c !== ',') throw new Error(`expected , or ) at ${JSON.stringify(this.s.slice(this.i - 1))}`);
    }
    return { sig: `(${sigs.join('')})`, value: values };
  }

  /** A type after '@': one complete D-Bus signature. */
  private signature(): string {
    const start = this.i;
    const one = (): void => {
      const c = this.s[this.i++];
      if (c === 'a') return one();
      if (c === '(') {
        while (this.s[this.i] !== ')') {
          if (this.i >= this.s.length) throw new Error('unterminated type');
          one();
        }
        this.i++;
        return;
      }
      if (c === '{') {
        one();
        one();
        if (this.s[this.i++] !== '}') throw new Error('bad dict entry type');
        return;
      }
      if (c === undefined || !'ybnqiuxtdsogvh'.includes(c)) throw new Error(`bad type ${JSON.stringify(this.s.slice(start))}`);
    };
    one();
    return this.s.slice(start, this.i);
  }
}
