// Backend pools: groups of interchangeable backends that serve the same models (the InferencePool idea).
// Each pool has its own coordinator; a model name routes to exactly one pool. Built once from config, so
// a model served by two pools or a pool whose backends disagree is a configuration error, not a guess.

/** The pool of backends that name none: today's single-pool setups keep working unchanged. */
export const DEFAULT_POOL = 'default';

export interface PoolMember {
  readonly name: string;
  /** Absent: this backend is in the default pool. */
  readonly pool?: string;
  /** Absent: serves any model (a pool with no model list takes every model no other pool lists). */
  readonly models?: readonly string[];
}

export interface Pool<B extends PoolMember = PoolMember> {
  readonly name: string;
  readonly backends: readonly B[];
  /** The models this pool serves; null for a catch-all pool. */
  readonly models: readonly string[] | null;
}

export type PoolTableResult<B extends PoolMember> =
  | { readonly ok: true; readonly table: PoolTable<B> }
  | { readonly ok: false; readonly field: string; readonly problem: string };

export class PoolTable<B extends PoolMember = PoolMember> {
  readonly pools: readonly Pool<B>[];
  readonly #byModel: ReadonlyMap<string, Pool<B>>;
  readonly #byName: ReadonlyMap<string, Pool<B>>;
  readonly #catchAll: Pool<B> | null;

  private constructor(pools: readonly Pool<B>[], byModel: Map<string, Pool<B>>, catchAll: Pool<B> | null) {
    this.pools = pools;
    this.#byModel = byModel;
    this.#byName = new Map(pools.map((p) => [p.name, p]));
    this.#catchAll = catchAll;
  }

  /**
   * Groups backends into pools. `field(i)` names backend i in errors (e.g. `BACKENDS.3`), so a bad entry
   * is reported where the operator wrote it.
   */
  static build<B extends PoolMember>(
    backends: readonly B[],
    field: (index: number) => string,
  ): PoolTableResult<B> {
    const members = new Map<string, Array<{ backend: B; index: number }>>();
    backends.forEach((backend, index) => {
      const pool = backend.pool ?? DEFAULT_POOL;
      const list = members.get(pool) ?? [];
      list.push({ backend, index });
      members.set(pool, list);
    });
    const pools: Pool<B>[] = [];
    const byModel = new Map<string, Pool<B>>();
    let catchAll: Pool<B> | null = null;
    for (const [name, list] of members) {
      const [first, ...rest] = list;
      if (!first) continue;
      const models = first.backend.models ? [...new Set(first.backend.models)].sort() : null;
      for (const other of rest) {
        const theirs = other.backend.models ? [...new Set(other.backend.models)].sort() : null;
        if (JSON.stringify(theirs) !== JSON.stringify(models)) {
          return {
            ok: false,
            field: `${field(other.index)}.models`,
            problem: `must list the same models as the other backends of pool "${name}" (${describe(models)}), got ${describe(theirs)}`,
          };
        }
      }
      const pool: Pool<B> = { name, backends: list.map((m) => m.backend), models };
      if (models === null) {
        if (catchAll) {
          return {
            ok: false,
            field: `${field(first.index)}.models`,
            problem: `is missing: pools "${catchAll.name}" and "${name}" would both serve every model; list the models of one of them`,
          };
        }
        catchAll = pool;
      } else {
        for (const model of models) {
          const taken = byModel.get(model);
          if (taken) {
            return {
              ok: false,
              field: `${field(first.index)}.models`,
              problem: `lists "${model}", which pool "${taken.name}" serves already: a model routes to exactly one pool`,
            };
          }
          byModel.set(model, pool);
        }
      }
      pools.push(pool);
    }
    return { ok: true, table: new PoolTable(pools, byModel, catchAll) };
  }

  /** The pool that serves `model`, or null when none does (the client gets 404 model_not_found). */
  poolFor(model: string): Pool<B> | null {
    return this.#byModel.get(model) ?? this.#catchAll;
  }

  pool(name: string): Pool<B> | null {
    return this.#byName.get(name) ?? null;
  }

  /** Every model some pool lists by name (a catch-all pool's models are whatever its backends serve). */
  listedModels(): string[] {
    return [...this.#byModel.keys()].sort();
  }

  get catchAll(): Pool<B> | null {
    return this.#catchAll;
  }
}

function describe(models: readonly string[] | null): string {
  return models === null ? 'no list (any model)' : JSON.stringify(models);
}
