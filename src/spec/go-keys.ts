// Object keys as runc reads them. runc decodes config.json, `exec --process` files and `update -r`
// files with Go's encoding/json, which matches a key to a struct field "preferring an exact match
// but also accepting a case-insensitive match" (encoding/json, func Unmarshal): for runc,
// `"CPU": {"Cpus": "0"}` is linux.resources.cpu.cpus. Keys of Go maps (annotations, sysctl,
// unified, rdma, netDevices, timeOffsets) are data and are never renamed.
//
// Which objects are structs and which are maps comes from the project's schema, compiled into a
// table by scripts/build-validators.ts (src/spec/generated/go-keys.js): an object schema with
// `properties` only is a struct, one with `additionalProperties` or `patternProperties` as a
// schema is a map.
//
// Case folding is Go's (decode.go, foldFunc/equalFoldRight; foldName since Go 1.21): ASCII
// letters without case, and U+017F (long s) and U+212A (Kelvin sign) fold to s and k, the only
// non-ASCII letters whose simple folding reaches an ASCII letter.
//
// When a struct holds the same field twice (an exact key and a case variant, or two variants),
// Go decodes each key in document order into that one field (golang/go#43664: the last one
// wins, exact or not). So: a later scalar replaces; a later object is decoded into the earlier
// one (a struct keeps the members the later one does not set; a map keeps the other keys, each
// key's value replaced); a later array is decoded element by element into the earlier one and
// then cut to its own length (decode.go, array: "Decode into element"). Limits, stated here
// because JSON.parse has already been through the text: an exactly repeated key keeps only its
// last value (Go would decode both in turn), and null members are dropped first (json-null.ts),
// so a later null never clears an earlier value.
import { GO_KEY_NODES, GO_KEY_ROOTS, type GoKeyNode } from './generated/go-keys.js';
import { dropNullMembers } from './json-null.js';

export type GoDocumentKind = keyof typeof GO_KEY_ROOTS;

/**
 * A parsed document as runc (Go's encoding/json) reads it, before the schema sees it: null
 * members dropped (json-null.ts), then keys matched to fields as Go matches them. The one
 * pre-processing step for config.json, `exec --process` files and `update -r` files.
 */
export function readAsGo(doc: unknown, kind: GoDocumentKind): unknown {
  return foldGoKeys(dropNullMembers(doc), kind);
}

/** Go's folding of a key for a case-insensitive match with a struct field name. */
export function goFold(key: string): string {
  return key.replace(/[A-Z\u017f\u212a]/g, (c) => (c === '\u017f' ? 's' : c === '\u212a' ? 'k' : c.toLowerCase()));
}

/** Renames, in place where it can, the keys of `doc` that Go would match to a field case-insensitively; returns the document. */
export function foldGoKeys(doc: unknown, kind: GoDocumentKind): unknown {
  return visit(doc, GO_KEY_ROOTS[kind]);
}

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function visit(v: Json, index: number): Json {
  if (index < 0) return v;
  const node = GO_KEY_NODES[index]!;
  if ('i' in node) {
    if (Array.isArray(v)) for (let k = 0; k < v.length; k++) v[k] = visit(v[k], node.i);
    return v;
  }
  if (!isObject(v)) return v;
  if ('m' in node) {
    if (node.m >= 0) for (const k of Object.keys(v)) v[k] = visit(v[k], node.m);
    return v;
  }
  const keys = Object.keys(v);
  if (keys.every((k) => Object.hasOwn(node.p, k))) {
    for (const k of keys) v[k] = visit(v[k], node.p[k]!);
    return v;
  }
  // Some key is not a field name as written: rebuild the object in document order.
  const out: Obj = {};
  for (const k of keys) {
    const field = fieldOf(node, k);
    if (field === undefined) {
      setOwn(out, k, v[k]); // not a field of runc's: kept as written, not looked into
      continue;
    }
    const child = node.p[field]!;
    const value = visit(v[k], child);
    setOwn(out, field, Object.hasOwn(out, field) ? decodeInto(out[field], value, child) : value);
  }
  return out;
}

const folded = new Map<GoKeyNode, Map<string, string>>();

function fieldOf(node: { p: Record<string, number> }, key: string): string | undefined {
  if (Object.hasOwn(node.p, key)) return key;
  let names = folded.get(node);
  if (!names) {
    names = new Map(Object.keys(node.p).map((name) => [goFold(name), name]));
    folded.set(node, names);
  }
  return names.get(goFold(key));
}

/** A later value for a field that the document already set, decoded into the earlier one as Go does. */
function decodeInto(earlier: Json, later: Json, index: number): Json {
  const node = index < 0 ? undefined : GO_KEY_NODES[index]!;
  if (node && 'p' in node && isObject(earlier) && isObject(later)) {
    for (const k of Object.keys(later)) {
      setOwn(earlier, k, Object.hasOwn(earlier, k) && Object.hasOwn(node.p, k) ? decodeInto(earlier[k], later[k], node.p[k]!) : later[k]);
    }
    return earlier;
  }
  if (node && 'm' in node && isObject(earlier) && isObject(later)) {
    for (const k of Object.keys(later)) setOwn(earlier, k, later[k]);
    return earlier;
  }
  if (Array.isArray(earlier) && Array.isArray(later)) {
    const item = node && 'i' in node ? node.i : -1;
    return later.map((e, k) => (k < earlier.length ? decodeInto(earlier[k], e, item) : e));
  }
  return later;
}

function setOwn(o: Obj, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}
