import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerStartRequest } from '../../../core/index.ts';
import type { Program } from '../target.ts';

/** Start requests for one target: fresh host directories per attempt, removed at teardown. */
export function requestMaker(prefix: string) {
  const dirs: string[] = [];
  let seq = 0;
  return {
    make(
      command: RunnerStartRequest['command'],
      env: Record<string, string>,
      overrides: Partial<RunnerStartRequest>,
    ): RunnerStartRequest {
      const root = mkdtempSync(join(tmpdir(), `maestro-contract-${prefix}-`));
      dirs.push(root);
      seq += 1;
      const runId = `rc-${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
      return {
        runId,
        taskId: 'task',
        attempt: 1,
        attemptId: `${runId}/task/1`,
        command,
        workDir: join(root, 'work'),
        artifactsDir: join(root, 'artifacts'),
        resources: 'small',
        namespace: 'team-a',
        outputs: [],
        redact: [],
        ...overrides,
        env: { ...env, ...overrides.env },
      };
    },
    cleanup() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The executing runners run the program's script in a shell. */
export const shellOf = (program: Program) => ({ kind: 'shell' as const, script: program.script });
