/** FNV-1a (32-bit) over the vocabulary and the token sequences: a cheap identity of a training corpus. */
export function corpusHash(tokens: readonly string[], sequences: readonly Int32Array[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h ^= x & 0xffff;
    h = Math.imul(h, 0x01000193);
    h ^= x >>> 16;
    h = Math.imul(h, 0x01000193);
  };
  for (const t of tokens) {
    for (let i = 0; i < t.length; i++) mix(t.charCodeAt(i));
    mix(0x10000);
  }
  for (const s of sequences) {
    for (const id of s) mix(id);
    mix(0x20000);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
