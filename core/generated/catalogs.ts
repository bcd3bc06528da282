// Generated from schemas/catalogs.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * `.maestro/catalogs.yaml`: the shared task catalogs a repository's workflows use (`uses: <catalog>/<task>@<range>`), each a git repository at a ref. `maestro tasks lock` pins each to a commit in `.maestro/tasks.lock`.
 */
export interface CatalogsFile {
  /**
   * By catalog name: the name is the first segment of `uses:` (`acme` in `acme/slack-post@1`).
   */
  catalogs: {
    [k: string]: CatalogSource;
  };
}
/**
 * This interface was referenced by `CatalogsFile`'s JSON-Schema
 * via the `definition` "CatalogSource".
 */
export interface CatalogSource {
  /**
   * The catalog's git clone URL: `https://…` (or `http://` to a loopback address); the CLI also reads a local path or `file://` URL, the GitHub App never does.
   */
  url: string;
  /**
   * A tag, branch or commit; `maestro tasks lock` resolves it to the exact commit.
   */
  ref: string;
}
