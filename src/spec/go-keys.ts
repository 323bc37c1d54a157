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
import { GO_KEY_NODES, GO_KEY_ROOTS } from './generated/go-keys.js';
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
  // toLowerCase maps the Kelvin sign to k and no other non-ASCII letter to ASCII alone.
  const lower = key.toLowerCase();
  return lower.includes('\u017f') ? lower.replaceAll('\u017f', 's') : lower;
}

/** Renames, in place where it can, the keys of `doc` that Go would match to a field case-insensitively; returns the document. */
export function foldGoKeys(doc: unknown, kind: GoDocumentKind): unknown {
  return visit(doc, GO_KEY_ROOTS[kind]);
}

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function visit(v: Json, index: number): Json {
  if (index < 0 || v === null || typeof v !== 'object') return v;
  const node = GO_KEY_NODES[index]!;
  if (Array.isArray(v)) {
    const item = (node as { i?: number }).i;
    if (item !== undefined) for (let k = 0; k < v.length; k++) v[k] = visit(v[k], item);
    return v;
  }
  const o = v as Obj;
  const values = (node as { m?: number }).m;
  if (values !== undefined) {
    if (values >= 0) for (const k in o) o[k] = visit(o[k], values);
    return o;
  }
  const fields = (node as { p?: Record<string, number> }).p;
  if (fields === undefined) return o;
  let exact = true;
  for (const k in o) {
    const child = Object.hasOwn(fields, k) ? fields[k]! : undefined;
    if (child === undefined) exact = false;
    else if (child >= 0) o[k] = visit(o[k], child);
  }
  return exact ? o : rebuild(o, index, fields);
}

/** `o` with its keys that name a field only case-insensitively renamed, in document order (its fields are visited already). */
function rebuild(o: Obj, index: number, fields: Record<string, number>): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) {
    const field = fieldOf(index, fields, k);
    if (field === undefined) {
      setOwn(out, k, o[k]); // not a field of runc's: kept as written, not looked into
      continue;
    }
    const child = fields[field]!;
    const value = field === k ? o[k] : visit(o[k], child);
    setOwn(out, field, Object.hasOwn(out, field) ? decodeInto(out[field], value, child) : value);
  }
  return out;
}

// Per struct node, its field names by their folded form; made when a key first needs it (cold
// code: plain objects and loops, no Map or iterator, which cost bun more at first use).
const foldedNames: Array<Record<string, string> | undefined> = [];

function fieldOf(index: number, fields: Record<string, number>, key: string): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  let names = foldedNames[index];
  if (!names) {
    names = Object.create(null) as Record<string, string>;
    for (const name in fields) names[goFold(name)] = name;
    foldedNames[index] = names;
  }
  return names[goFold(key)];
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
