import { gunzipSync } from 'node:zlib';

/**
 * Reads the regular files of a gzip'd ustar archive (what `opa build` writes) into memory.
 * Bundles are small and read once per process, so a synchronous, dependency-free reader is enough.
 * Throws a plain Error on malformed input; callers wrap it in their typed error.
 */
export function untarGz(bytes: Uint8Array): Map<string, Uint8Array> {
  const tar = gunzipSync(bytes);
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const name = readString(header, 0, 100);
    const prefix = readString(header, 345, 155);
    const size = parseInt(readString(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    if (!Number.isFinite(size) || size < 0) throw new Error(`bad size in tar header of ${name}`);
    const start = offset + 512;
    if (start + size > tar.length) throw new Error(`truncated tar entry ${name}`);
    if (type === '0' || type === '\0') {
      const path = (prefix ? `${prefix}/${name}` : name).replace(/^\.?\/+/, '');
      files.set(path, tar.subarray(start, start + size));
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

function readString(buf: Uint8Array, start: number, length: number): string {
  const slice = buf.subarray(start, start + length);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end === -1 ? slice : slice.subarray(0, end));
}
