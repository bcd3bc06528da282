/**
 * `maestro audit export|verify`: the policy decision log (append-only, hash-chained) as JSON
 * lines, and the check that names any edited, removed, inserted or reordered entry.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Option, type Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { openPolicyLog } from '../../runtime/index.ts';
import {
  formatDecisionLog,
  openDecisionLog,
  parseDecisionLog,
  verifyChain,
  type VerifyReport,
} from '../../policy/index.ts';
import { resolveDataDir } from '../config.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';

/**
 * Where a data dir keeps the decision log: the engine store's `maestro.db` (where `maestro run`
 * writes it, engine/store/sqlite/sqlite-decision-log.ts); `decisions.db` first, while it is there:
 * a data dir from before the move that no engine of this version opened yet (which copies it
 * into `maestro.db` and renames it `decisions.db.migrated`).
 */
const LOG_FILES = ['decisions.db', 'maestro.db'];

export function registerAudit(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('export and verify the policy decision log');
  audit
    .command('export')
    .description('write every policy decision as JSON lines (chain order, with hashes)')
    .option('--data-dir <dir>', 'data directory (default: MAESTRO_DATA_DIR, else ~/.local/share/maestro)')
    .option('--db <file>', 'the SQLite file holding the log (default: found in the data dir)')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (flags: { dataDir?: string; db?: string; out?: string }) => {
      const log = await openLog(flags, context.io);
      try {
        const text = formatDecisionLog(await log.entries());
        if (flags.out) writeFileSync(resolve(context.io.cwd, flags.out), text);
        else context.io.stdout(text);
      } finally {
        await log.close();
      }
    });
  audit
    .command('verify')
    .description('check the hash chain of an exported log file, or of the live log when no file is given')
    .argument('[file]', 'a file from `maestro audit export`')
    .option('--data-dir <dir>', 'data directory for the live log')
    .option('--db <file>', 'the SQLite file holding the live log (default: found in the data dir)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (file: string | undefined, flags: { dataDir?: string; db?: string; format: string }) => {
      let report: VerifyReport;
      let what: string;
      if (file) {
        const path = resolve(context.io.cwd, file);
        if (!existsSync(path)) throw new InputError('audit_file_missing', `${path} does not exist`);
        report = verifyChain(parseDecisionLog(readFileSync(path, 'utf8'), path));
        what = path;
      } else {
        const log = await openLog(flags, context.io);
        try {
          report = await log.verify();
        } finally {
          await log.close();
        }
        what = 'the live decision log';
      }
      context.io.stdout(
        flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReport(what, report),
      );
      if (!report.ok) context.exitCode = ExitCode.inputErrors;
    });
}

/** The live log: --db, else PostgreSQL when MAESTRO_DATABASE_URL is set, else the data dir's file. */
async function openLog(flags: { dataDir?: string; db?: string }, io: CliIo) {
  if (!flags.db && io.env.MAESTRO_DATABASE_URL)
    return openPolicyLog({ dataDir: '', durability: 'normal', databaseUrl: io.env.MAESTRO_DATABASE_URL });
  if (flags.db) {
    const file = resolve(io.cwd, flags.db);
    if (!existsSync(file)) throw new InputError('audit_no_database', `no database at ${file}`);
    return openDecisionLog(file);
  }
  const dataDir = resolveDataDir(flags.dataDir, io);
  const file = LOG_FILES.map((name) => join(dataDir, name)).find(hasLogTable);
  if (!file)
    throw new InputError(
      'audit_no_database',
      `no policy decision log in ${dataDir} (${LOG_FILES.join(', ')})`,
      {
        hint: 'pass --data-dir <dir> (the data dir `maestro run` used) or --db <file>',
      },
    );
  return openDecisionLog(file);
}

/** Looks without writing: opening the log would create its table. */
function hasLogTable(file: string): boolean {
  if (!existsSync(file)) return false;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { readOnly: true });
    return (
      db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'policy_decision_log'")
        .get() !== undefined
    );
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

function renderReport(what: string, report: VerifyReport): string {
  if (report.ok) return `ok: ${what}: ${report.entries} entries, chain intact, head ${report.headHash}\n`;
  const lines = report.findings.map(
    (f) => `  entry ${f.index}${f.decisionId ? ` (${f.decisionId})` : ''}: ${f.kind}: ${f.message}\n`,
  );
  return `TAMPERED: ${what}: ${report.findings.length} finding(s) in ${report.entries} entries\n${lines.join('')}`;
}
