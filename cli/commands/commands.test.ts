import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../program.ts';
import { ExitCode } from '../exit-codes.ts';
import type { CliContext } from '../context.ts';
import { COMMANDS, commandNamed } from './index.ts';

const quiet = (): CliContext => ({
  io: { stdout: () => {}, stderr: () => {}, env: {}, cwd: process.cwd(), isTty: false },
  exitCode: ExitCode.ok,
});

describe('the command table', () => {
  it('lists every command with the term and description the command itself declares', async () => {
    const program = await buildProgram(quiet(), [], true);
    const help = program.createHelp();
    const declared = program.commands.map((c) => ({
      name: c.name(),
      term: help.subcommandTerm(c),
      description: c.description(),
    }));
    expect(COMMANDS.map(({ name, term, description }) => ({ name, term, description }))).toEqual(declared);
  });

  it('draws the same top-level help from the table as from the commands themselves', async () => {
    const lazy = await buildProgram(quiet(), []);
    const full = await buildProgram(quiet(), [], true);
    expect(lazy.helpInformation()).toBe(full.helpInformation());
  });

  it('picks the command a command line names, help included', () => {
    expect(commandNamed(['run', 'x.yaml', '--server', 'http://h'])?.name).toBe('run');
    expect(commandNamed(['--json', 'validate', 'a'])?.name).toBe('validate');
    expect(commandNamed(['help', 'runs'])?.name).toBe('runs');
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['rnu'])).toBeUndefined();
  });

  it('loads no command module for `maestro --help`, and only its own for `maestro validate`', () => {
    const bin = fileURLToPath(new URL('../../bin/maestro.ts', import.meta.url));
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { registerHooks } from 'node:module'; registerHooks({ load(u, c, n) { if (u.includes('/cli/commands/')) process.stderr.write('loaded ' + u.slice(u.lastIndexOf('/') + 1) + '\\n'); return n(u, c); } });",
    )}`;
    const loaded = (args: string[]) => {
      const r = spawnSync(process.execPath, ['--import', hook, bin, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stderr
        .split('\n')
        .filter((l) => l.startsWith('loaded '))
        .map((l) => l.slice(7))
        .sort();
    };
    expect(loaded(['--help'])).toEqual(['index.ts']);
    const manifest = fileURLToPath(
      new URL('../../examples/quickstart/.maestro/workflows/hello.yaml', import.meta.url),
    );
    // The --server flag's declaration, not the server client (runs-remote.ts), which only --server loads.
    expect(loaded(['validate', manifest])).toEqual(['index.ts', 'server-option.ts', 'validate.ts']);
  });
});
