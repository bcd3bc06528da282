// The manifest's types, generated from schemas/manifest.schema.json (never written by hand).
export type {
  Manifest,
  ManifestMetadata,
  ManifestSpec,
  ManifestParam,
  ManifestPolicy,
  ManifestApprovals,
  ManifestBudget,
  ManifestTriggers,
  ManifestRefFilter,
  ManifestDefaults,
  ManifestRetry,
  ManifestBackoff,
  ManifestCache,
  ManifestEnv,
  ManifestTask,
} from './generated/manifest.ts';
