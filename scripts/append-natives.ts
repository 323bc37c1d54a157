// Finishes build/tsrun from what bun compiled:
// - x86-64: puts ffi/entry/nofile-entry.S (assembled, --entry) in front of bun's entry point, in
//   a segment of its own (the PT_NOTE program header becomes its PT_LOAD; the notes stay in the
//   file as sections), so tsrun learns the RLIMIT_NOFILE it was started with;
// - appends tsrun-init, libtsrun-shim.so and koffi.node, then a footer that says where they are
//   (the format: src/native/resources.ts), making it one self-contained file. Bun finds its own
//   code in its ELF section and ignores what follows.
//   node_modules/.bin/bun scripts/append-natives.ts [--entry STUB.bin] COMPILED OUT INIT SHIM KOFFI
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { FOOTER_MAGIC, FOOTER_SIZE } from '../src/native/support-files.js';

let argv = process.argv.slice(2);
let stubFile: string | undefined;
if (argv[0] === '--entry') [stubFile, argv] = [argv[1], argv.slice(2)];
const [compiled, out, ...files] = argv;
if (!compiled || !out || files.length !== 3) {
  console.error('usage: append-natives.ts [--entry STUB.bin] COMPILED OUT INIT SHIM KOFFI');
  process.exit(2);
}
const die = (msg: string): never => {
  console.error(`append-natives: ${compiled}: ${msg}`);
  process.exit(1);
};

const PAGE = 4096;
const PT_LOAD = 1;
const PT_NOTE = 4;
const EM_X86_64 = 62;
const alignUp = (n: bigint) => (n + BigInt(PAGE - 1)) & ~BigInt(PAGE - 1);

let exe = fs.readFileSync(compiled);
if (stubFile) {
  if (exe.readUInt32BE(0) !== 0x7f454c46 || exe[4] !== 2 || exe[5] !== 1) die('not a little-endian ELF64 file');
  if (exe.readUInt16LE(18) !== EM_X86_64) die('the entry stub is x86-64 code');
  const stub = Buffer.from(fs.readFileSync(stubFile));
  const phoff = Number(exe.readBigUInt64LE(32));
  const phentsize = exe.readUInt16LE(54);
  const phnum = exe.readUInt16LE(56);
  let note = -1;
  let end = 0n;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = exe.readUInt32LE(ph);
    if (type === PT_NOTE && note < 0) note = ph;
    if (type === PT_LOAD) {
      const e = exe.readBigUInt64LE(ph + 16) + exe.readBigUInt64LE(ph + 40);
      if (e > end) end = e;
    }
  }
  if (note < 0) die('no PT_NOTE program header to turn into the entry stub\'s segment');
  const offset = alignUp(BigInt(exe.length));
  const vaddr = alignUp(end) + BigInt(PAGE); // one page past the highest segment (bss included)
  stub.writeBigUInt64LE(exe.readBigUInt64LE(24), stub.length - 8); // orig_entry: bun's
  exe = Buffer.concat([exe, Buffer.alloc(Number(offset) - exe.length), stub]);
  exe.writeUInt32LE(PT_LOAD, note);
  exe.writeUInt32LE(5, note + 4); // PF_R | PF_X
  exe.writeBigUInt64LE(offset, note + 8);
  exe.writeBigUInt64LE(vaddr, note + 16);
  exe.writeBigUInt64LE(vaddr, note + 24);
  exe.writeBigUInt64LE(BigInt(stub.length), note + 32);
  exe.writeBigUInt64LE(BigInt(stub.length), note + 40);
  exe.writeBigUInt64LE(BigInt(PAGE), note + 48);
  exe.writeBigUInt64LE(vaddr, 24); // e_entry
}

const parts = files.map((f) => fs.readFileSync(f));
const key = createHash('sha256');
for (const p of parts) key.update(p);
const footer = Buffer.alloc(FOOTER_SIZE);
footer.write(FOOTER_MAGIC, 0, 'latin1');
parts.forEach((p, i) => footer.writeBigUInt64LE(BigInt(p.length), 8 + i * 8));
key.digest().copy(footer, 32, 0, 32);
const tmp = `${out}.tmp`;
fs.writeFileSync(tmp, Buffer.concat([exe, ...parts, footer]), { mode: 0o755 });
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, out);
