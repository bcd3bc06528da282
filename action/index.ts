// The Action's entry (bundled to dist/index.js by scripts/build-action.ts; action.yml runs it
// with node24). The only place in action/ that reads process.env.
import { tmpdir } from 'node:os';
import { runAction } from './run-action.ts';

await runAction({
  cwd: process.cwd(),
  workspace: process.env['GITHUB_WORKSPACE'] || process.cwd(),
  hasSummary: Boolean(process.env['GITHUB_STEP_SUMMARY']),
  inActions: process.env['GITHUB_ACTIONS'] === 'true',
  runnerTemp: process.env['RUNNER_TEMP'] || tmpdir(),
  env: { ...process.env },
});
