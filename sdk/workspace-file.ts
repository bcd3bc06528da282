/**
 * A file a task reads or writes, named by an input relative to its workspace. Tasks take paths
 * from `with:`, which a workflow author (or a template) controls: a path that climbs out of the
 * workspace (`../../etc/passwd`, an absolute path) is refused, naming the input, before any I/O.
 * The sandbox confines a local task anyway; this keeps the same answer on every runner.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { TaskError } from './errors.ts';

/** The absolute path of `path` (relative to `workspace`); `input` is the JSON Pointer naming it. */
export function workspaceFile(workspace: string, path: string, input: string): string {
  const root = resolve(workspace);
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (isAbsolute(path) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new TaskError(
      'path_outside_workspace',
      `${input}: ${JSON.stringify(path)} is not a file inside the workspace`,
      {
        hint: `give ${input} as a path relative to the workspace, without .. (for example results/rows.csv)`,
      },
    );
  return full;
}
