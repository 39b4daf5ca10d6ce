/** CRC-32 (zlib's polynomial), as `zlib.crc32`. Pure so that model and codecs share it. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * `_hash_containing_file`: CRC32 of the file's bytes as 8 lowercase hex digits, or the path
 * itself when there is no such file. The caller reads the file (the model does no I/O).
 */
export function fileHash(path: string, contents: Uint8Array | undefined): string {
  if (contents === undefined) return path;
  return crc32(contents).toString(16).padStart(8, '0');
}
