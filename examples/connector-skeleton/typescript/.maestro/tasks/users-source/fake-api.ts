// The peer this skeleton reads: a paginated "API" over a JSON file of the workspace, so the
// sample runs offline. Replace it with your client (fetch, a database driver, …); keep its shape:
// a page of rows after a cursor, and a refusal that names no credential.
import { readFileSync } from 'node:fs';

export interface User {
  id: number;
  name: string;
  updated_at: string;
}

export class ApiError extends Error {}

/** The token the fake API accepts (a real API checks its own). */
export const DEMO_TOKEN = 'demo-token';

export function openApi(file: string, token: string) {
  const { users } = JSON.parse(readFileSync(file, 'utf8')) as { users: User[] };
  return {
    whoami(): string {
      if (token !== DEMO_TOKEN) throw new ApiError('401 Unauthorized: the token was refused');
      return 'demo';
    },
    /** Up to `size` users with an id above `after`, in id order. */
    page(after: number, size: number): User[] {
      this.whoami();
      return users.filter((u) => u.id > after).slice(0, size);
    },
  };
}
