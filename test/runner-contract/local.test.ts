/** The runner contract (contract.ts) against the local runner; see targets/local.ts for its setup. */
import { runnerContract } from './contract.ts';
import { localTarget } from './targets/local.ts';

runnerContract(localTarget());
