/** The runner contract (contract.ts) against the serverless runner; see targets/serverless.ts for its setup. */
import { runnerContract } from './contract.ts';
import { serverlessTarget } from './targets/serverless.ts';

runnerContract(serverlessTarget());
