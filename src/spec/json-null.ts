// JSON null as Go's encoding/json reads it (and so runc): a member whose value is null is as
// if it were absent (Go leaves the field nil or zero). Applied to every document tsrun reads
// before the schema sees it, so `"args": null` is no member rather than a type error, while a
// required member given as null is still reported missing. Array elements are left alone:
// a null where a value is expected stays an error.

/** Removes, in place and at any depth, the members of objects whose value is null; returns `doc`. */
export function dropNullMembers<T>(doc: T): T {
  const stack: unknown[] = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const e of v) stack.push(e);
      continue;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (o[k] === null) delete o[k];
      else stack.push(o[k]);
    }
  }
  return doc;
}
