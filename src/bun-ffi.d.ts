// The part of bun:ffi that sysfile-libc.ts uses (bun's own types are not installed).
declare module 'bun:ffi' {
  export const FFIType: { readonly i32: 'i32'; readonly u32: 'u32'; readonly i64: 'i64'; readonly u64: 'u64'; readonly ptr: 'ptr' };
  type Arg = 'i32' | 'u32' | 'i64' | 'u64' | 'ptr';
  interface Decl { args: readonly Arg[]; returns: Arg }
  type Ret<T extends Arg> = T extends 'i32' | 'u32' ? number : T extends 'ptr' ? number | null : number | bigint;
  export function dlopen<D extends Record<string, Decl>>(lib: string, decls: D): {
    symbols: { [K in keyof D]: (...args: (number | bigint | Uint8Array)[]) => Ret<D[K]['returns']> };
    close(): void;
  };
  export const read: { i32(ptr: number, offset?: number): number };
  export class CString {
    constructor(ptr: number, byteOffset?: number);
    toString(): string;
  }
}
