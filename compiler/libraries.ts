import { createRequire } from 'node:module';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type * as CronParser from 'cron-parser';
import type * as Re2js from 're2js';
import type * as Semver from 'semver';
import type * as Yaml from 'yaml';

/**
 * Libraries the compiler needs only for some manifests, loaded on first use instead of at import:
 * every command that compiles (`maestro validate`, `run`, the App) imports the compiler, and most
 * compiles need none of them. `yaml` places diagnostics (only when there are any), ajv and semver
 * resolve catalog `uses` (with their input schemas), cron-parser checks `triggers.schedule`.
 * Together about 220 modules of `maestro validate`'s start-up. The compiler's API is synchronous,
 * hence require() (which caches each module) rather than import(); all four are CommonJS, so this
 * is the same module instance an `import` elsewhere in the process gets.
 * scripts/build-action.ts turns these calls into plain require()s so esbuild bundles the libraries.
 */
const requireHere = createRequire(import.meta.url);

export const yamlLibrary = (): typeof Yaml => requireHere('yaml') as typeof Yaml;
export const semverLibrary = (): typeof Semver => requireHere('semver') as typeof Semver;
export const cronLibrary = (): typeof CronParser => requireHere('cron-parser') as typeof CronParser;
/** RE2 (linear-time matching) for schema `pattern`s and glob filters: most compiles have neither. */
export const re2Library = (): typeof Re2js => requireHere('re2js') as typeof Re2js;
export const ajv2020Library = (): typeof Ajv2020Module =>
  requireHere('ajv/dist/2020.js') as typeof Ajv2020Module;
