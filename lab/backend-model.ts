// Modelled inference backends. Their slots are the dispatcher's backends (maxConcurrency = slots); how
// long a slot stays busy is decided here, never by the core: time to first token, then one token per step.

import type { BackendSpec } from '../src/core/backend-pool.ts';

export interface BackendModel {
  readonly name: string;
  /** Requests generated concurrently (the dispatcher's maxConcurrency). */
  readonly slots: number;
  readonly ttftMs: number;
  readonly perTokenMs: number;
}

/** How long a request holds its slot: the first token after ttftMs, each further token perTokenMs later. */
export function serviceTimeMs(model: BackendModel, tokens: number): number {
  return model.ttftMs + Math.max(0, tokens - 1) * model.perTokenMs;
}

export function toBackendSpecs(models: readonly BackendModel[]): BackendSpec[] {
  return models.map((m) => ({ name: m.name, maxConcurrency: m.slots }));
}

/** Identical neighbours are described once: "8 × gpu0..gpu7: 16 slots, …". */
export function describeBackends(models: readonly BackendModel[]): string {
  const runs: BackendModel[][] = [];
  for (const m of models) {
    const last = runs.at(-1);
    const head = last?.[0];
    if (
      last &&
      head &&
      head.slots === m.slots &&
      head.ttftMs === m.ttftMs &&
      head.perTokenMs === m.perTokenMs
    ) {
      last.push(m);
    } else {
      runs.push([m]);
    }
  }
  return runs
    .map((run) => {
      const first = run[0] as BackendModel;
      const names =
        run.length === 1 ? first.name : `${run.length} × ${first.name}..${(run.at(-1) as BackendModel).name}`;
      return `${names}: ${first.slots} slots, ${first.ttftMs} ms to first token, ${first.perTokenMs} ms per token`;
    })
    .join('; ');
}
