// A source connector on the TypeScript SDK: copy this folder to .maestro/tasks/<name>/ of your
// repository, replace fake-api.ts with your client, and keep the four operations. `maestro tasks
// test .maestro/tasks/users-source` runs examples/*.json; the workflow runs check, discover, read.
import { defineSource, runMain, workspaceFile } from '@summit-maestro/sdk';
import { openApi } from './fake-api.ts';

export const usersSource = defineSource({
  name: 'users-source',
  version: '1.0.0',
  description: 'Reads the users of a paginated API, incrementally on their id.',
  spec: {
    config: {
      type: 'object',
      required: ['file', 'token'],
      additionalProperties: false,
      properties: {
        file: { type: 'string', minLength: 1, description: "The fake API's data, in the workspace" },
        // A secret: never in with:, from env: through configSecrets; masked in every report.
        token: { type: 'string', airbyte_secret: true, description: 'The API token' },
        pageSize: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
      },
    },
  },

  check(config, ctx) {
    // config is typed from the spec: config.file is a string, config.pageSize a number | undefined.
    const api = openApi(workspaceFile(ctx.workspace, config.file, '/config/file'), config.token);
    return { status: 'succeeded', message: `connected as ${api.whoami()}` };
  },

  discover: () => ({
    streams: [
      {
        name: 'users',
        json_schema: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'integer' }, name: { type: 'string' }, updated_at: { type: 'string' } },
        },
        supported_sync_modes: ['full_refresh', 'incremental'],
        source_defined_cursor: true,
        default_cursor_field: ['id'],
        source_defined_primary_key: [['id']],
      },
    ],
  }),

  async read(config, catalog, state, ctx) {
    const api = openApi(workspaceFile(ctx.workspace, config.file, '/config/file'), config.token);
    for (const { stream, sync_mode } of catalog.streams) {
      if (stream.name !== 'users') continue;
      // Where the last checkpoint left off (a retry), else the start.
      let after =
        sync_mode === 'incremental' ? ((state.users as { after?: number } | undefined)?.after ?? 0) : 0;
      ctx.emit.log(`reading users after id ${after}`);
      for (;;) {
        ctx.signal.throwIfAborted(); // cancel and the task's timeout arrive here
        const page = api.page(after, config.pageSize ?? 50);
        if (page.length === 0) break;
        for (const user of page) ctx.emit.record('users', { ...user });
        after = page.at(-1)!.id;
        // The commit rule: checkpoint once the page's records are emitted, never before.
        ctx.checkpoint('users', { after });
        ctx.heartbeat();
      }
    }
  },
});

if (import.meta.main) await runMain(usersSource, process.env);
