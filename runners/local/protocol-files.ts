import { join } from 'node:path';
import type { RunnerStartRequest } from '../../core/index.ts';

/** Where an attempt's protocol files are, and $MAESTRO_STATE's file on a retry. */
export interface ProtocolFiles {
  output: string;
  messages: string;
  state?: string;
}

/**
 * The attempt's $MAESTRO_OUTPUT and $MAESTRO_MESSAGES (and $MAESTRO_STATE on a retry, always in
 * the workspace). In a sandbox they are in the workspace, the one writable place the task sees.
 * An unsandboxed attempt's are `<seq>.output` and `<seq>.messages` in the runner's private folder
 * (`priv`: mkdtemp, 0700, on /dev/shm when writable), named by the runner alone: making and
 * removing two files per task in the workspace on ext4 cost 60–150 µs of CPU each (inode
 * allocation past recently deleted inodes) against ~5 µs on tmpfs (bench/run/RESULTS.md), and a
 * file or link of that name in the repository is then never touched at all.
 */
export function protocolFiles(
  request: Pick<RunnerStartRequest, 'workDir' | 'state'>,
  priv: { dir: string; seq: number } | undefined,
): ProtocolFiles {
  const files: ProtocolFiles = priv
    ? { output: join(priv.dir, `${priv.seq}.output`), messages: join(priv.dir, `${priv.seq}.messages`) }
    : {
        output: join(request.workDir, '.maestro-output'),
        messages: join(request.workDir, '.maestro-messages'),
      };
  if (request.state !== undefined) files.state = join(request.workDir, '.maestro-state');
  return files;
}
