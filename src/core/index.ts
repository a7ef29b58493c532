// Public surface of the pure scheduling core. Imports nothing from Workers, Hono or src/worker.

export * from './defaults.ts';
export * from './errors.ts';
export * from './outcome.ts';
export * from './workload-context.ts';
export * from './rate-window.ts';
export * from './indexed-heap.ts';
export * from './registry-entry.ts';
export * from './workload-queue.ts';
export * from './workload-state.ts';
export * from './backend-pool.ts';
export * from './dispatcher.ts';
export * from './local-scheduler.ts';
export * from './pools.ts';
export * from './failover.ts';
export * from './prometheus-text.ts';
export * from './engine-load.ts';
export * from './saturation.ts';
export * from './request-log.ts';
export * from './token-charge.ts';
export * from './protocol/messages.ts';
export * from './protocol/workload-host.ts';
export * from './protocol/coordinator-host.ts';
export * from './policy/index.ts';
export { createFcfsPolicy } from './policy/fcfs.ts';
export { createSeedPolicy } from './policy/seed.ts';
export { createWorkloadAwarePolicy, validateWorkloadAwareParams } from './policy/workload-aware.ts';
export * from './usage.ts';
