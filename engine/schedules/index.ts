export { CronScheduler } from './cron-scheduler.ts';
export type {
  CronSchedulerOptions,
  FireOutcome,
  FireSlot,
  ScheduledWorkflow,
  ScheduleSource,
  SlotToFire,
  TickReport,
} from './cron-scheduler.ts';
export { dueSlots, nextSlot, slotsBetween } from './due-slots.ts';
export { openScheduleStore } from './schedule-store.ts';
export { openPostgresScheduleStore, type PostgresScheduleStore } from './postgres-schedule-store.ts';
export type { ClaimState, ScheduleStore, SlotClaim } from './schedule-store.ts';
