import { alloc, free, length, load_u64, load_u8, store_u64, store_u8 } from "./env";

/** Copies bytes into a new host-side (Extism) block and returns its address. */
export function toBlock(bytes: Uint8Array): u64 {
  const size = <u64>bytes.length;
  const block = alloc(size);
  let i: u64 = 0;
  for (; i + 8 <= size; i += 8) store_u64(block + i, load<u64>(bytes.dataStart + <usize>i));
  for (; i < size; i++) store_u8(block + i, load<u8>(bytes.dataStart + <usize>i));
  return block;
}

/** Copies a string, as UTF-8, into a new host-side block. */
export function stringToBlock(text: string): u64 {
  return toBlock(Uint8Array.wrap(String.UTF8.encode(text)));
}

/** Copies a host-side block into guest memory and frees the block. */
export function takeBlock(block: u64): Uint8Array {
  const size = length(block);
  const bytes = new Uint8Array(<i32>size);
  let i: u64 = 0;
  for (; i + 8 <= size; i += 8) store<u64>(bytes.dataStart + <usize>i, load_u64(block + i));
  for (; i < size; i++) store<u8>(bytes.dataStart + <usize>i, load_u8(block + i));
  free(block);
  return bytes;
}

export function bytesToString(bytes: Uint8Array): string {
  return String.UTF8.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
