// The serverless runner: AWS Lambda's Invoke API, SigV4-signed (@smithy/signature-v4).
export { serverlessRunnerFactory } from './factory.ts';
export {
  createServerlessRunner,
  eventOf,
  FUNCTION_PROTOCOL_VERSION,
  type ServerlessRunnerDeps,
} from './serverless-runner.ts';
export { parseServerlessConfig, functionFor, type ServerlessRunnerConfig } from './config.ts';
export { classifyInvoke, type Verdict as InvokeVerdict } from './classify.ts';
