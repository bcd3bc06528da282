import { gzipSync } from 'node:zlib';
import { tarLibrary } from '../libraries.ts';

/** One entry to write. `type` other than File exists so tests can build hostile archives. */
export interface TarEntryInput {
  path: string;
  data?: Uint8Array;
  type?: 'File' | 'SymbolicLink' | 'Link' | 'Directory';
  linkpath?: string;
}

const BLOCK = 512;
/** A fixed mtime keeps archives byte-for-byte reproducible. */
const EPOCH = new Date(0);

/** Writes a ustar archive (PAX headers for long paths) in memory, deterministically. */
export function writeTar(entries: TarEntryInput[]): Buffer {
  const { Header, Pax } = tarLibrary();
  const chunks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? new Uint8Array());
    const type = entry.type ?? 'File';
    const fields = {
      path: entry.path,
      mode: type === 'Directory' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      size: type === 'File' ? data.length : 0,
      mtime: EPOCH,
      type,
      linkpath: entry.linkpath ?? '',
      uname: '',
      gname: '',
    };
    const header = new Header(fields);
    const block = Buffer.alloc(BLOCK);
    header.encode(block, 0);
    if (header.needPax) chunks.push(new Pax({ ...fields, atime: undefined, ctime: undefined }).encode());
    chunks.push(block);
    if (type === 'File' && data.length > 0) {
      chunks.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) chunks.push(Buffer.alloc(pad));
    }
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(chunks);
}

/** gzip with a fixed header (no name, mtime 0) so equal content gives equal bytes. */
export function writeTgz(entries: TarEntryInput[]): Buffer {
  return gzipSync(writeTar(entries), { level: 9 });
}
