/** Events the engine publishes after each stored transition (check runs and consoles render them). */
export type EngineEvent =
  | {
      type: 'run';
      runId: string;
      from: string | null;
      to: string;
      reason: string;
      by: string;
      time: number;
      /**
       * The run's workflow, namespace and creation time, where the process publishing the event
       * holds the run's record (its submit, its executor): subscribers need not read the run.
       */
      of?: RunOf;
    }
  | {
      type: 'task';
      runId: string;
      taskId: string;
      from: string;
      to: string;
      reason: string;
      by: string;
      time: number;
      attempt: number;
      detail?: string;
    }
  | {
      type: 'log';
      runId: string;
      taskId: string | null;
      attempt: number | null;
      stream: string;
      text: string;
      time: number;
    };

/** What a run event may carry of its run (the metrics' pipeline name and recovery look-back). */
export interface RunOf {
  workflow: string;
  namespace: string;
  createdAt: number;
}

export type EngineListener = (event: EngineEvent) => void;
