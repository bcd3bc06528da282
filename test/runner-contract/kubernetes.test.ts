/** The runner contract (contract.ts) against the kubernetes runner; see targets/kubernetes.ts for its setup. */
import { runnerContract } from './contract.ts';
import { kubernetesTarget } from './targets/kubernetes.ts';

runnerContract(kubernetesTarget());
