/**
 * The smallest program of each architecture: a static ELF whose one job is exit(42). Running it
 * is the real test that this machine can run that architecture's programs (natively, or through
 * qemu-user and binfmt_misc), which is what building an image for it needs. Pure.
 */
import type { ArchName } from './table.js';

export const PROBE_EXIT = 42;

const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const u32 = (n: number) => [...u16(n & 0xffff), ...u16((n >>> 16) & 0xffff)];
const u64 = (n: number) => [...u32(n), ...u32(Math.floor(n / 2 ** 32))];
const words = (...ws: number[]) => ws.flatMap(u32);

/** Machine code for exit(42), per architecture. */
const CODE: Record<ArchName, number[]> = {
  // mov edi, 42; mov eax, 60 (exit); syscall
  amd64: [0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05],
  // movz x0, #42; movz x8, #93 (exit); svc #0
  arm64: words(0xd2800540, 0xd2800ba8, 0xd4000001),
  // mov r0, #42; mov r7, #1 (exit); svc #0
  armhf: words(0xe3a0002a, 0xe3a07001, 0xef000000),
  // mov ebx, 42; mov eax, 1 (exit); int 0x80
  i386: [0xbb, 42, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xcd, 0x80],
};

const MACHINE: Record<ArchName, { bits: 32 | 64; machine: number; flags: number }> = {
  amd64: { bits: 64, machine: 62, flags: 0 },
  arm64: { bits: 64, machine: 183, flags: 0 },
  armhf: { bits: 32, machine: 40, flags: 0x05000400 }, // EABI version 5, hard float
  i386: { bits: 32, machine: 3, flags: 0 },
};

/** One loadable segment at 0x400000 holding the headers and the code; the entry is the code. */
export function probeElf(arch: ArchName): Buffer {
  const { bits, machine, flags } = MACHINE[arch];
  const code = CODE[arch];
  const base = 0x400000;
  const ehsize = bits === 64 ? 64 : 52;
  const phsize = bits === 64 ? 56 : 32;
  const size = ehsize + phsize + code.length;
  const entry = base + ehsize + phsize;
  const addr = bits === 64 ? u64 : u32;
  const ident = [0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const header = [...ident, ...u16(2), ...u16(machine), ...u32(1), ...addr(entry), ...addr(ehsize), ...addr(0), ...u32(flags), ...u16(ehsize), ...u16(phsize), ...u16(1), ...u16(0), ...u16(0), ...u16(0)];
  const program =
    bits === 64
      ? [...u32(1), ...u32(5), ...u64(0), ...u64(base), ...u64(base), ...u64(size), ...u64(size), ...u64(0x1000)]
      : [...u32(1), ...u32(0), ...u32(base), ...u32(base), ...u32(size), ...u32(size), ...u32(5), ...u32(0x1000)];
  return Buffer.from([...header, ...program, ...code]);
}
