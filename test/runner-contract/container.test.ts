/** The runner contract (contract.ts) against the container runner; see targets/container.ts for its setup. */
import { runnerContract } from './contract.ts';
import { containerTarget } from './targets/container.ts';

runnerContract(containerTarget());
