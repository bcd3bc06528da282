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

export type EngineListener = (event: EngineEvent) => void;
