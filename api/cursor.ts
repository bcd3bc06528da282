/**
 * Opaque keyset cursors: the position after the last item of a page, as base64url JSON. Opaque
 * so clients cannot build them and the key can change; checked on the way in, so a forged cursor
 * is a 400, not a query.
 */
import { ApiError } from './problem.ts';

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(
  text: string | undefined,
  shape: { [K in keyof T]: 'string' | 'number' },
): T | undefined {
  if (text === undefined) return undefined;
  const bad = () =>
    new ApiError(400, 'bad_cursor', 'the cursor is not one this server returned', {
      hint: 'pass the nextCursor of the previous page unchanged',
      errors: [{ pointer: '/query/cursor', message: 'not a cursor' }],
    });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (value === null || typeof value !== 'object') throw bad();
  for (const [key, type] of Object.entries(shape))
    if (typeof (value as Record<string, unknown>)[key] !== type) throw bad();
  return value as T;
}
