/**
 * `node --import <this file> task.ts`: an import of `@summit-maestro/sdk` resolves to the SDK
 * beside this file, the one of the Maestro that runs the task. A repository task
 * (`.maestro/tasks/<name>`) runs from the source checkout, which has no node_modules of its own;
 * with this hook it needs none, and its code digest covers the SDK it really runs (tasks/index.ts).
 */
import { registerHooks } from 'node:module';

const sdkIndex = new URL(import.meta.url.endsWith('.ts') ? './index.ts' : './index.js', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === '@summit-maestro/sdk') return { url: sdkIndex, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
