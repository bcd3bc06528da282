import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../core/index.ts';
import { createToken, openApiStore, parseExpiry, parseScopes, SCOPES } from '../../api/index.ts';
import { resolveDataDir } from '../config.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';

const EXAMPLES = `
Examples:
  $ maestro tokens create --name ci --scope runs:write,workflows:write
  $ maestro tokens create --name data-team --scope runs:read --namespace data --expires 30d --user alice
  $ maestro tokens list
  $ maestro tokens revoke tok-1a2b3c4d

Scopes: ${SCOPES.join(', ')}. The token is printed once; only its SHA-256 is stored, in the
store the server uses (so the first token needs no server): MAESTRO_DATABASE_URL when it is set,
the data directory otherwise. See docs/server.md.`;

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the server’s data directory (default: MAESTRO_DATA_DIR)');

export function registerTokens(program: Command, context: CliContext): void {
  const { io } = context;
  const tokens = program
    .command('tokens')
    .description('Create, list and revoke API tokens for `maestro server`')
    .addHelpText('after', EXAMPLES);
  // The store `maestro server` opens: PostgreSQL when MAESTRO_DATABASE_URL names it, else the data dir.
  const open = (dataDir?: string) =>
    openApiStore({ dataDir: resolveDataDir(dataDir, io), databaseUrl: io.env.MAESTRO_DATABASE_URL });

  tokens
    .command('create')
    .description('Create a token and print it once')
    .requiredOption('--name <name>', 'what the token is for (shown by list)')
    .requiredOption('--scope <scopes>', `comma-separated: ${SCOPES.join(', ')}`)
    .option('--user <login>', 'who acts with it (recorded as the actor of its runs; default: token:<name>)')
    .option('--namespace <namespaces>', 'limit it to these namespaces (comma-separated; default: all)')
    .option('--expires <duration>', 'lifetime such as 90d, 12h, 30m', '90d')
    .addOption(dataDirOption())
    .action(
      async (o: {
        name: string;
        scope: string;
        user?: string;
        namespace?: string;
        expires: string;
        dataDir?: string;
      }) => {
        let scopes;
        try {
          scopes = parseScopes(o.scope);
        } catch (error) {
          throw new UsageError(`--scope: ${(error as Error).message}`);
        }
        const ttlMs = parseExpiry(o.expires);
        if (ttlMs === undefined || ttlMs <= 0)
          throw new UsageError(`--expires expects a duration such as 90d, 12h or 30m, got ${o.expires}`);
        // `token:<name>` is what a token without a person acts as; such a token cannot approve
        // (api/approval-routes.ts), so no one may claim the prefix as a login.
        if (o.user !== undefined && (o.user === '' || o.user.startsWith('token:')))
          throw new UsageError(
            `--user ${JSON.stringify(o.user)} is not a login (token: is reserved for tokens without a user)`,
          );
        const namespaces = (o.namespace ?? '')
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        const store = await open(o.dataDir);
        try {
          const { token, record } = await createToken(store, {
            name: o.name,
            scopes,
            user: o.user ?? `token:${o.name}`,
            namespaces,
            ttlMs,
            now: Date.now(),
          });
          io.stderr(
            `created ${record.id} (${record.name}), scopes ${scopes.join(',')}, expires ${new Date(record.expiresAt).toISOString()}\n` +
              'the token is shown once; store it now:\n',
          );
          io.stdout(`${token}\n`);
        } finally {
          await store.close();
        }
      },
    );

  tokens
    .command('list')
    .description('List tokens (never the tokens themselves)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(dataDirOption())
    .action(async (o: { format: 'text' | 'json'; dataDir?: string }) => {
      const store = await open(o.dataDir);
      try {
        const now = Date.now();
        const list = (await store.listTokens()).map((t) => ({
          id: t.id,
          name: t.name,
          user: t.user,
          scopes: t.scopes,
          namespaces: t.namespaces,
          createdAt: new Date(t.createdAt).toISOString(),
          expiresAt: new Date(t.expiresAt).toISOString(),
          state: t.revokedAt !== null ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
        }));
        if (o.format === 'json') io.stdout(JSON.stringify(list, null, 2) + '\n');
        else
          for (const t of list)
            io.stdout(
              `${t.id}  ${t.state.padEnd(7)} ${t.name}  ${t.scopes.join(',')}  ${t.namespaces.join(',') || '*'}  expires ${t.expiresAt}\n`,
            );
      } finally {
        await store.close();
      }
    });

  tokens
    .command('revoke')
    .description('Revoke a token at once')
    .argument('<id>', 'token id (from `maestro tokens list`)')
    .addOption(dataDirOption())
    .action(async (id: string, o: { dataDir?: string }) => {
      const store = await open(o.dataDir);
      try {
        if (await store.revokeToken(id, Date.now())) io.stdout(`revoked ${id}\n`);
        else {
          io.stderr(`maestro: no active token ${id}\nhint: list them with: maestro tokens list\n`);
          context.exitCode = ExitCode.inputErrors;
        }
      } finally {
        await store.close();
      }
    });
}
