// The -ENOSYS stub in front of a seccomp filter (src/linux/seccomp-enosys.ts), run in a small
// classic-BPF interpreter over struct seccomp_data: every architecture and ABI branch, including
// x32 and s390 that the host cannot run, and a stub for many architectures at once.
import t from 'tap';
import { AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, enosysStub, type ArchLimits } from '../../src/linux/seccomp-enosys.js';

const ALLOW = 0x7fff0000;
const ENOSYS = 0x00050000 | 38;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const AUDIT_ARCH_S390X = 0x80000016;

/** Runs stub + a filter that allows everything; returns the seccomp action. */
function run(stub: Uint8Array, arch: number, nr: number): number {
  const prog = new Uint8Array(stub.length + 8);
  prog.set(stub);
  const tail = new DataView(prog.buffer, stub.length);
  tail.setUint16(0, 0x06, true);
  tail.setUint32(4, ALLOW, true);
  const v = new DataView(prog.buffer);
  let a = 0;
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    if (pc * 8 >= prog.length) throw new Error(`jumped out of the program (to ${pc})`);
    const code = v.getUint16(pc * 8, true);
    const jt = v.getUint8(pc * 8 + 2);
    const jf = v.getUint8(pc * 8 + 3);
    const k = v.getUint32(pc * 8 + 4, true);
    switch (code) {
      case 0x20: // ld [k]
        a = k === 0 ? nr >>> 0 : k === 4 ? arch >>> 0 : NaN;
        pc++;
        break;
      case 0x05: // ja k
        pc += 1 + k;
        break;
      case 0x15: // jeq
        pc += 1 + (a === k ? jt : jf);
        break;
      case 0x25: // jgt
        pc += 1 + (a > k ? jt : jf);
        break;
      case 0x45: // jset
        pc += 1 + ((a & k) !== 0 ? jt : jf);
        break;
      case 0x06: // ret k
        return k;
      default:
        throw new Error(`unexpected instruction ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('the program does not end');
}

t.test('nothing to patch: an empty stub', async (t) => {
  t.equal(enosysStub([]).length, 0);
  t.equal(enosysStub([{ audit: AUDIT_ARCH_I386 }]).length, 0, 'an architecture without syscalls in the profile');
});

t.test('x86_64: above the largest number ENOSYS, at or below it the filter', async (t) => {
  const stub = enosysStub([{ audit: AUDIT_ARCH_X86_64, max: 334 }]);
  t.equal(run(stub, AUDIT_ARCH_X86_64, 0), ALLOW);
  t.equal(run(stub, AUDIT_ARCH_X86_64, 334), ALLOW, 'the largest itself');
  t.equal(run(stub, AUDIT_ARCH_X86_64, 335), ENOSYS, 'one above');
  t.equal(run(stub, AUDIT_ARCH_X86_64, 1000), ENOSYS);
  t.equal(run(stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1000), ALLOW, 'x32 not in the profile: the filter decides (bad arch)');
  t.equal(run(stub, AUDIT_ARCH_I386, 1000), ALLOW, 'another architecture: the filter decides');
});

t.test('x86_64 and x32: each ABI against its own largest number', async (t) => {
  const stub = enosysStub([{ audit: AUDIT_ARCH_X86_64, max: 300, x32Max: X32_SYSCALL_BIT | 200 }]);
  t.equal(run(stub, AUDIT_ARCH_X86_64, 250), ALLOW, 'x86_64 250 <= 300');
  t.equal(run(stub, AUDIT_ARCH_X86_64, 301), ENOSYS);
  t.equal(run(stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 200), ALLOW, 'x32 200');
  t.equal(run(stub, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 250), ENOSYS, 'x32 250 > 200, though x86_64 250 would pass');
  const only = enosysStub([{ audit: AUDIT_ARCH_X86_64, x32Max: X32_SYSCALL_BIT | 200 }]);
  t.equal(run(only, AUDIT_ARCH_X86_64, 1000), ALLOW, 'only x32 in the profile: x86_64 calls go to the filter');
  t.equal(run(only, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 201), ENOSYS);
});

t.test('s390x: the multiplexer number 0 (an unknown syscall) is ENOSYS too', async (t) => {
  const stub = enosysStub([{ audit: AUDIT_ARCH_S390X, max: 400 }]);
  t.equal(run(stub, AUDIT_ARCH_S390X, 0), ENOSYS);
  t.equal(run(stub, AUDIT_ARCH_S390X, 5), ALLOW);
  t.equal(run(stub, AUDIT_ARCH_S390X, 401), ENOSYS);
});

t.test('many architectures: every one reaches its own section', async (t) => {
  const arches: ArchLimits[] = Array.from({ length: 40 }, (_, i) => ({ audit: 0x1000 + i, max: 100 + i }));
  arches.push({ audit: AUDIT_ARCH_X86_64, max: 334, x32Max: X32_SYSCALL_BIT | 300 }, { audit: AUDIT_ARCH_AARCH64, max: 450 });
  const stub = enosysStub(arches);
  for (const a of arches) {
    t.equal(run(stub, a.audit, a.max!), ALLOW, `${a.audit.toString(16)}: its largest`);
    t.equal(run(stub, a.audit, a.max! + 1), ENOSYS, `${a.audit.toString(16)}: above`);
  }
  t.equal(run(stub, 0x9999, 100000), ALLOW, 'an architecture not in the list: the filter');
});
