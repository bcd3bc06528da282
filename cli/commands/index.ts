import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Every command registers itself here, one line each. */
export function registerCommands(_program: Command, _context: CliContext): void {}
