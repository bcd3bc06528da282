#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// Node caches compiled (and type-stripped) modules on disk, so every start after the first skips
// most of the work of reading our TypeScript; measured 1.57 s -> 1.03 s for `maestro --help`.
// It must be enabled before the CLI's modules load, hence the dynamic import below.
enableCompileCache();
const { main } = await import('../cli/index.ts');

process.exitCode = await main(process.argv.slice(2));
