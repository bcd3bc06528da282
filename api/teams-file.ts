/**
 * The server's teams, for `from: [team:…]` in a manifest's `approvals` when a run is approved
 * through the API (the App asks GitHub's Teams API instead). One YAML (or JSON) file, named by
 * `MAESTRO_TEAMS_FILE`, read afresh for every approval so an edit takes effect without a restart:
 *
 *   teams:
 *     ops: [alice, bob]        # from: [team:ops]
 *     release-leads: [carol]   # from: [team:release-leads]
 *
 * No file: no team has members, so a rule naming a team is met by nobody (fail closed).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MaestroError, Fault } from '../core/index.ts';

export const TEAMS_FILE_VARIABLE = 'MAESTRO_TEAMS_FILE';

export type Teams = ReadonlyMap<string, readonly string[]>;

export class TeamsFileError extends MaestroError {
  constructor(file: string, problem: string, cause?: unknown) {
    super('teams_file_invalid', `the teams file ${file} ${problem}`, {
      fault: Fault.user,
      hint: `${TEAMS_FILE_VARIABLE} must name a YAML file of the form "teams: { ops: [alice, bob] }" (docs/server.md)`,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
// The slug `team:<slug>` may name in a manifest (schemas/manifest.schema.json, approvals.from).
const TEAM = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Reads and checks the teams file; `undefined` (no file configured) is no teams. */
export function readTeamsFile(file: string | undefined): Teams {
  if (file === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new TeamsFileError(file, 'cannot be read', cause);
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 0 });
  } catch (cause) {
    throw new TeamsFileError(file, `is not YAML: ${(cause as Error).message}`, cause);
  }
  const teams = (doc as { teams?: unknown } | null)?.teams;
  if (teams === null || typeof teams !== 'object' || Array.isArray(teams))
    throw new TeamsFileError(file, 'has no "teams" mapping');
  const out = new Map<string, string[]>();
  for (const [name, members] of Object.entries(teams)) {
    if (!TEAM.test(name))
      throw new TeamsFileError(file, `names a team ${JSON.stringify(name)} that is not a team slug`);
    if (!Array.isArray(members) || !members.every((m) => typeof m === 'string' && LOGIN.test(m)))
      throw new TeamsFileError(file, `lists members of ${name} that are not a list of logins`);
    out.set(name.toLowerCase(), members as string[]);
  }
  return out;
}

/**
 * A team's members: `team:ops` is the file's team `ops`. A team of another organisation
 * (`org/slug`, which only CODEOWNERS can name) is not the server's to know: no members.
 */
export function membersOf(teams: Teams, team: { org?: string; slug: string }): readonly string[] {
  if (team.org !== undefined) return [];
  return teams.get(team.slug.toLowerCase()) ?? [];
}
