/**
 * The Source port: where a run's code comes from. Every run a surface submits names a source (a
 * repository at an exact commit, or a plain directory), stored with the run and attested in its
 * receipts; the engine asks a `SourceFetcher` for a read-only export of it once, then gives each
 * task its own writable layer over that export (engine/workspace-layer.ts).
 */

export interface RunSource {
  /** `git`: a repository at a commit. `directory`: a folder that is not a git repository. */
  kind: 'git' | 'directory';
  /**
   * Where it came from, never with credentials: an `https://` (or loopback `http://`) URL, or an
   * absolute local path.
   */
  repo: string;
  /** The exact commit (40 hex) for git; for a directory the sha256 tree digest of its files. */
  commit: string;
  /** The ref the commit was resolved from, when one was given (`main`, `refs/pull/7/head`). */
  ref?: string;
}

/**
 * Which run a fetch is for: a surface that authorises fetches (the App's installation tokens)
 * decides from that run's stored records, so any replica executing the run can fetch its code.
 */
export interface SourceContext {
  runId: string;
}

export interface SourceFetcher {
  /**
   * Materialises `source` as a read-only directory and returns its path. Calls for the same
   * commit may return the same directory: an export is never written to after it is returned.
   */
  export(source: RunSource, context?: SourceContext): Promise<string>;
  /**
   * The HTTP header git sends to fetch `source` (`Authorization: Basic …` with the App's
   * installation token, fresh), for a runner whose tasks fetch the source themselves (a pod);
   * undefined when the fetch is anonymous. A secret: runners keep it out of specs and logs.
   */
  authHeader?(source: RunSource, context?: SourceContext): Promise<string | undefined>;
}
