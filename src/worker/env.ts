// The Worker's bindings and vars, as wrangler.toml declares them. Vars arrive as strings (or JSON values
// when written as TOML tables/arrays); src/worker/config.ts turns them into a typed config.

import type { AuthStatsDO } from './auth-failures.ts';
import type { CoordinatorDO } from './coordinator-do.ts';
import type { WorkloadDO } from './workload-do.ts';

export interface Env {
  readonly WORKLOAD: DurableObjectNamespace<WorkloadDO>;
  readonly COORDINATOR: DurableObjectNamespace<CoordinatorDO>;
  readonly BACKENDS?: unknown;
  readonly POOL_LOCATION_HINTS?: unknown;
  readonly POLICY?: unknown;
  readonly QUEUE_TTL_MS?: unknown;
  readonly MAX_QUEUE_PER_WORKLOAD?: unknown;
  readonly LEASE_TTL_MS?: unknown;
  readonly MAX_BODY_BYTES?: unknown;
  readonly BACKEND_COOLDOWN_BASE_MS?: unknown;
  readonly BACKEND_COOLDOWN_MAX_MS?: unknown;
  readonly UPSTREAM_HEADERS_TIMEOUT_MS?: unknown;
  readonly UPSTREAM_MAX_ATTEMPTS?: unknown;
  readonly METRICS_INTERVAL_MS?: unknown;
  readonly SATURATION_MAX_WAITING?: unknown;
  readonly SATURATION_MAX_KV_CACHE?: unknown;
  readonly UPSTREAM_IDLE_TIMEOUT_MS?: unknown;
  readonly AGING_HORIZON_MS?: unknown;
  readonly CRITICALITY_STEP_MS?: unknown;
  readonly RATE_PENALTY_MS?: unknown;
  readonly RATE_CAP_PER_SEC?: unknown;
  readonly FAIRNESS?: unknown;
  readonly TOKEN_COST_MS_PER_1K?: unknown;
  /** JSON {"<workload_id>": weight}: share weights under token fairness (default 1 each). */
  readonly WORKLOAD_WEIGHTS?: unknown;
  /** The operator endpoints' bearer token (see operator-auth.ts for when it is required). */
  readonly ADMIN_TOKEN?: unknown;
  /** API keys, stored by their SHA-256 (see key-store.ts). Required when AUTH is on. */
  readonly KEYS?: KVNamespace;
  /** Counts failed authentications for the whole deployment (see auth-failures.ts). */
  readonly AUTH_STATS: DurableObjectNamespace<AuthStatsDO>;
  /** `on` (default) or `off`. */
  readonly AUTH?: unknown;
  readonly AUTH_CACHE_TTL_MS?: unknown;
  /** JSON {"<workload>": {maxInFlight?, requestsPerMinute?, tokensPerMinute?}}. */
  readonly WORKLOAD_LIMITS?: unknown;
  readonly LOG_LEVEL?: unknown;
  /** /metrics and the dashboard label the top N workloads per pool by recent traffic, the rest as other. */
  readonly METRICS_TOP_WORKLOADS?: unknown;
}
