// The SIG reference server (`maestro sig-dev-server`): every version of every SIG contract, validated.
export { createSigDevServer, type SigDevServer, type SigDevServerOptions, type SigFaults } from './server.ts';
export { SigReceived, type ReceivedBatch, type ReceivedTrigger } from './received.ts';
