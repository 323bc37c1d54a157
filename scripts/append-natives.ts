// Makes build/tsrun one self-contained file: appends tsrun-init, libtsrun-shim.so and koffi.node
// to the executable bun compiled, then a footer that says where they are (the format:
// src/shim/resources.ts). Bun finds its own code in its ELF section and ignores what follows.
//   node_modules/.bin/bun scripts/append-natives.ts COMPILED OUT INIT SHIM KOFFI
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { FOOTER_MAGIC, FOOTER_SIZE } from '../src/shim/resources.js';

const [compiled, out, ...files] = process.argv.slice(2);
if (!compiled || !out || files.length !== 3) {
  console.error('usage: append-natives.ts COMPILED OUT INIT SHIM KOFFI');
  process.exit(2);
}
const parts = files.map((f) => fs.readFileSync(f));
const key = createHash('sha256');
for (const p of parts) key.update(p);
const footer = Buffer.alloc(FOOTER_SIZE);
footer.write(FOOTER_MAGIC, 0, 'latin1');
parts.forEach((p, i) => footer.writeBigUInt64LE(BigInt(p.length), 8 + i * 8));
key.digest().copy(footer, 32, 0, 32);
const tmp = `${out}.tmp`;
fs.copyFileSync(compiled, tmp);
fs.appendFileSync(tmp, Buffer.concat([...parts, footer]));
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, out);
