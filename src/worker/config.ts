// Wrangler vars → one frozen, typed config with named defaults. Parsed once per isolate (and once per
// Durable Object); a bad value yields an error that names the field, never a half-valid config.

import * as v from 'valibot';
import {
  BACKEND_COOLDOWN_BASE_MS,
  BACKEND_COOLDOWN_MAX_MS,
  type BackendCooldown,
  DEFAULT_KEY_CACHE_TTL_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_TOP_WORKLOADS,
  MAX_METRICS_TOP_WORKLOADS,
  DEFAULT_MAX_ATTEMPTS,
  LOG_LEVELS,
  type LogLevel,
  DEFAULT_METRICS_INTERVAL_MS,
  DEFAULT_SATURATION_MAX_KV_CACHE,
  DEFAULT_SATURATION_MAX_WAITING,
  resolveSaturationPolicy,
  type SaturationPolicy,
  DEFAULT_MAX_QUEUE_PER_WORKLOAD,
  DEFAULT_QUEUE_TTL_MS,
  DEFAULT_WORKLOAD_AWARE_PARAMS,
  FAIRNESS_MODES,
  isValidWeight,
  MAX_WORKLOAD_ID_CHARS,
  workloadIdProblem,
  MAX_WORKLOAD_WEIGHT,
  MIN_WORKLOAD_WEIGHT,
  type Fairness,
  POLICY_NAMES,
  PoolTable,
  type PolicyName,
  type WorkloadAwareParams,
  type WorkloadLimits,
  validateLimits,
} from '../core/index.ts';
import type { Env } from './env.ts';

/** Bodies larger than this are refused (413) before any scheduling work. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Longest wait for a backend's response headers. A non-streaming completion sends its headers only when
 * it is done, so this must exceed the longest generation; it stops a hung backend holding a slot forever.
 */
export const DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS = 10 * 60_000;
/**
 * Longest silence between a backend's body chunks, from its headers on. A decoding backend streams a
 * token every tens of ms, and a non-streaming answer arrives whole once its headers are sent; the one
 * long gap is a stream's first token (vLLM sends headers at once, then prefills), which takes seconds even
 * for a long prompt. 30 s of silence means a stuck backend, whose slot (kept alive by the lease heartbeat)
 * would otherwise be held for as long as it stays stuck.
 */
export const DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS = 30_000;

export interface BackendConfig {
  readonly name: string;
  readonly url: string;
  readonly maxConcurrency: number;
  /** Sent upstream as `Authorization: Bearer …` instead of the client's header. */
  readonly apiKey?: string;
  /** The pool it belongs to (default: `default`); a pool's backends are interchangeable. */
  readonly pool?: string;
  /** The models it serves; absent: any model no other pool lists. */
  readonly models?: readonly string[];
}

/** The credentials Sluice sends a backend: its own configured `apiKey`, never the client's. */
export function backendAuthHeaders(backend: Pick<BackendConfig, 'apiKey'>): Record<string, string> {
  return backend.apiKey !== undefined ? { authorization: `Bearer ${backend.apiKey}` } : {};
}

/**
 * Cloudflare's Durable Object location hints (developers.cloudflare.com/durable-objects/reference/
 * data-location): a pool's coordinator can be created near its GPUs.
 */
export const LOCATION_HINTS = ['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'oc', 'afr', 'me'] as const;
export type LocationHint = (typeof LOCATION_HINTS)[number];

export interface SluiceConfig {
  readonly backends: readonly BackendConfig[];
  /** The backends grouped into pools, and which pool serves which model. */
  readonly pools: PoolTable<BackendConfig>;
  /** Optional placement of each pool's coordinator. */
  readonly poolLocationHints: Readonly<Record<string, LocationHint>>;
  readonly policy: PolicyName;
  readonly policyParams: WorkloadAwareParams;
  readonly queueTtlMs: number;
  readonly maxQueuePerWorkload: number;
  readonly leaseTtlMs: number;
  readonly backendCooldown: BackendCooldown;
  readonly maxBodyBytes: number;
  readonly upstreamHeadersTimeoutMs: number;
  /** Tries per request, the first included (failover before the first byte; see core/failover.ts). */
  readonly maxAttempts: number;
  /** How often a busy pool's coordinator reads its backends' engine metrics; 0: never (slots only). */
  readonly metricsIntervalMs: number;
  /** When a backend's engine counts as saturated (null when metrics are off). */
  readonly saturation: SaturationPolicy | null;
  readonly upstreamIdleTimeoutMs: number;
  readonly adminToken: string | null;
  /**
   * `on` (the default, and what wrangler.toml sets): inference needs an API key and the operator
   * endpoints need ADMIN_TOKEN (closed without one). `off`: the network is trusted (see operator-auth.ts).
   */
  readonly auth: AuthMode;
  /** How long one isolate trusts a key lookup; part of a revocation's delay (see key-cache.ts). */
  readonly keyCacheTtlMs: number;
  /** Limits configured per workload ID; a key's own limits override them field by field. */
  readonly workloadLimits: Readonly<Record<string, WorkloadLimits>>;
  /**
   * Share weights by workload ID (token fairness): a workload not listed has DEFAULT_WORKLOAD_WEIGHT.
   * Read per request by admissionTerms() (src/core/admission-terms.ts).
   */
  readonly workloadWeights: Readonly<Record<string, number>>;
  /** The least severe log records printed (see src/core/request-log.ts). */
  readonly logLevel: LogLevel;
  /** Workloads labelled per pool in /metrics (by recent traffic); the rest are summed as `other`. */
  readonly metricsTopWorkloads: number;
}

export const AUTH_MODES = ['on', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export type ConfigResult =
  { readonly ok: true; readonly config: SluiceConfig } | { readonly ok: false; readonly message: string };

const BackendSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._-]')),
  url: v.pipe(
    v.string(),
    v.url('must be an absolute URL'),
    v.regex(/^https?:\/\//, 'must be an http(s) URL'),
    v.regex(/^[^?#]*$/, 'must not have a query or fragment'),
    // Sluice appends the request path (/v1/chat/completions, …) itself.
    v.check((url) => !/\/v1\/?$/.test(url), 'must be the server base URL, without /v1'),
  ),
  maxConcurrency: v.pipe(v.number(), v.integer('must be an integer'), v.minValue(1), v.maxValue(100_000)),
  apiKey: v.optional(v.string()),
  pool: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9._-]')),
  ),
  models: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(256))),
      v.minLength(1, 'must list at least one model (omit it to serve any model)'),
    ),
  ),
});

function positiveInt(field: string, raw: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ConfigFieldError(field, `must be an integer from 1 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function nonNegative(field: string, raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(n) || n < 0) {
    throw new ConfigFieldError(field, `must be a number ≥ 0, got ${JSON.stringify(raw)}`);
  }
  return n;
}

class ConfigFieldError extends Error {
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
  }
}

function parseBackends(raw: unknown): BackendConfig[] {
  let value = raw ?? [];
  if (typeof value === 'string') {
    if (value.trim() === '') return [];
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigFieldError(
        'BACKENDS',
        'is not valid JSON (expected an array of {name,url,maxConcurrency})',
      );
    }
  }
  const parsed = v.safeParse(v.array(BackendSchema), value);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new ConfigFieldError(`BACKENDS${path ? '.' + path : ''}`, issue?.message ?? 'is invalid');
  }
  const names = new Set<string>();
  for (const b of parsed.output) {
    if (names.has(b.name)) throw new ConfigFieldError('BACKENDS', `lists the name "${b.name}" twice`);
    names.add(b.name);
  }
  return parsed.output.map((b) => Object.freeze({ ...b, url: b.url.replace(/\/+$/, '') }));
}

/** A token that is set but unusable must not silently leave /admin open. */
function parseAdminToken(raw: unknown): string | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string') {
    throw new ConfigFieldError('ADMIN_TOKEN', 'must be a string (quote it in wrangler.toml)');
  }
  // HTTP trims a header's edges, so such a token could never be presented: /admin would be locked shut
  // with a misleading 401 (a newline pasted into `wrangler secret put` is the usual way in).
  if (raw.trim() !== raw || /[\u0000-\u001f\u007f]/.test(raw)) {
    throw new ConfigFieldError(
      'ADMIN_TOKEN',
      'has leading or trailing whitespace or a control character; no client can send it in a header',
    );
  }
  return raw;
}

function parsePools(backends: readonly BackendConfig[]): PoolTable<BackendConfig> {
  const built = PoolTable.build(backends, (i) => `BACKENDS.${i}`);
  if (!built.ok) throw new ConfigFieldError(built.field, built.problem);
  return built.table;
}

/**
 * A JSON-object var (`{"<key>": …}`): unset or empty is `{}`; otherwise it must parse to a plain object.
 * The result has no prototype, so a key such as `constructor` or `__proto__` is data, never inherited.
 */
function jsonObjectVar(field: string, raw: unknown, shape: string): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  if (raw === undefined || raw === '') return out;
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigFieldError(field, `is not valid JSON (expected ${shape})`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigFieldError(field, `must be an object ${shape}`);
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[key] = v;
  return out;
}

function parseLocationHints(raw: unknown, pools: PoolTable<BackendConfig>): Record<string, LocationHint> {
  const value = jsonObjectVar('POOL_LOCATION_HINTS', raw, '{"<pool>": "<hint>"}');
  const hints = Object.create(null) as Record<string, LocationHint>;
  for (const [pool, hint] of Object.entries(value)) {
    if (!pools.pool(pool)) {
      throw new ConfigFieldError(`POOL_LOCATION_HINTS.${pool}`, 'names a pool no backend belongs to');
    }
    if (!(LOCATION_HINTS as readonly unknown[]).includes(hint)) {
      throw new ConfigFieldError(
        `POOL_LOCATION_HINTS.${pool}`,
        `must be one of ${LOCATION_HINTS.join(', ')}, got ${JSON.stringify(hint)}`,
      );
    }
    hints[pool] = hint as LocationHint;
  }
  return hints;
}

function parseSaturation(env: Partial<Env>): Pick<SluiceConfig, 'metricsIntervalMs' | 'saturation'> {
  const intervalMs = nonNegative('METRICS_INTERVAL_MS', env.METRICS_INTERVAL_MS, DEFAULT_METRICS_INTERVAL_MS);
  if (intervalMs === 0) return { metricsIntervalMs: 0, saturation: null };
  if (!Number.isInteger(intervalMs) || intervalMs < 100) {
    throw new ConfigFieldError(
      'METRICS_INTERVAL_MS',
      `must be 0 (off) or an integer ≥ 100, got ${intervalMs}`,
    );
  }
  const maxWaiting = positiveInt(
    'SATURATION_MAX_WAITING',
    env.SATURATION_MAX_WAITING,
    DEFAULT_SATURATION_MAX_WAITING,
    100_000,
  );
  const maxKvCacheUsage = nonNegative(
    'SATURATION_MAX_KV_CACHE',
    env.SATURATION_MAX_KV_CACHE,
    DEFAULT_SATURATION_MAX_KV_CACHE,
  );
  if (!(maxKvCacheUsage > 0 && maxKvCacheUsage <= 1)) {
    throw new ConfigFieldError(
      'SATURATION_MAX_KV_CACHE',
      `must be a fraction in (0, 1], got ${maxKvCacheUsage}`,
    );
  }
  // Three intervals: two lost scrapes in a row do not yet drop a backend back to slot counting.
  return {
    metricsIntervalMs: intervalMs,
    saturation: resolveSaturationPolicy({ maxWaiting, maxKvCacheUsage, staleAfterMs: 3 * intervalMs }),
  };
}

/**
 * AUTH as written (unset or empty: on; case and surrounding spaces ignored), or null when it is neither
 * on nor off. One reading for the config and for /metrics under an invalid config.
 */
export function authModeOf(raw: unknown): AuthMode | null {
  const mode = raw === undefined || raw === '' ? 'on' : String(raw).trim().toLowerCase();
  return (AUTH_MODES as readonly string[]).includes(mode) ? (mode as AuthMode) : null;
}

function parseAuth(env: Partial<Env>): AuthMode {
  const raw = env.AUTH;
  const mode = authModeOf(raw);
  if (mode === null) {
    throw new ConfigFieldError('AUTH', `must be on or off, got ${JSON.stringify(raw)}`);
  }
  if (mode === 'on' && env.KEYS === undefined) {
    throw new ConfigFieldError(
      'AUTH',
      'is on but the KEYS KV binding is missing (wrangler.toml: [[kv_namespaces]] binding = "KEYS")',
    );
  }
  return mode as AuthMode;
}

function parseWorkloadLimits(raw: unknown): Record<string, WorkloadLimits> {
  const value = jsonObjectVar('WORKLOAD_LIMITS', raw, '{"<workload>": {limits}}');
  const out = Object.create(null) as Record<string, WorkloadLimits>;
  for (const [workload, limits] of Object.entries(value)) {
    checkWorkloadId('WORKLOAD_LIMITS', workload);
    const parsed = validateLimits(limits, {}, `WORKLOAD_LIMITS.${workload}`);
    // The message already starts with the field's full path.
    if (!parsed.ok) throw new ConfigFieldError(parsed.field, parsed.message.slice(parsed.field.length + 1));
    out[workload] = parsed.limits;
  }
  return out;
}

/**
 * A workload ID used as a config key: the core's rule for IDs (workloadIdProblem, as X-Workload-Context
 * applies it) and no surrounding spaces (the header trims), so a listed ID can match a request's.
 */
function checkWorkloadId(variable: string, id: string): void {
  if (id.trim() !== id || id === '' || workloadIdProblem(id) !== null) {
    throw new ConfigFieldError(
      `${variable}.${id}`,
      `must be a workload ID of 1-${MAX_WORKLOAD_ID_CHARS} characters without surrounding spaces or control characters`,
    );
  }
}

function parseLogLevel(raw: unknown): LogLevel {
  const level = raw === undefined || raw === '' ? DEFAULT_LOG_LEVEL : String(raw).trim();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigFieldError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return level as LogLevel;
}

/** WORKLOAD_WEIGHTS: {"<workload_id>": weight}; each weight a number in [MIN, MAX]_WORKLOAD_WEIGHT. */
function parseWorkloadWeights(raw: unknown): Record<string, number> {
  const value = jsonObjectVar('WORKLOAD_WEIGHTS', raw, '{"<workload_id>": <weight>}');
  const weights: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [id, weight] of Object.entries(value)) {
    checkWorkloadId('WORKLOAD_WEIGHTS', id);
    if (typeof weight !== 'number' || !isValidWeight(weight)) {
      throw new ConfigFieldError(
        `WORKLOAD_WEIGHTS.${id}`,
        `must be a number from ${MIN_WORKLOAD_WEIGHT} to ${MAX_WORKLOAD_WEIGHT}, got ${JSON.stringify(weight)}`,
      );
    }
    weights[id] = weight;
  }
  return weights;
}

function parseFairness(raw: unknown): Fairness {
  const mode = raw === undefined || raw === '' ? DEFAULT_WORKLOAD_AWARE_PARAMS.fairness : String(raw).trim();
  if (!(FAIRNESS_MODES as readonly string[]).includes(mode)) {
    throw new ConfigFieldError(
      'FAIRNESS',
      `must be one of ${FAIRNESS_MODES.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return mode as Fairness;
}

function parsePolicy(raw: unknown): PolicyName {
  const name = raw === undefined || raw === '' ? 'workload-aware' : String(raw).trim();
  if (!(POLICY_NAMES as readonly string[]).includes(name)) {
    throw new ConfigFieldError(
      'POLICY',
      `must be one of ${POLICY_NAMES.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return name as PolicyName;
}

export function parseConfig(env: Partial<Env>): ConfigResult {
  try {
    const d = DEFAULT_WORKLOAD_AWARE_PARAMS;
    const backends = Object.freeze(parseBackends(env.BACKENDS));
    const pools = parsePools(backends);
    const config: SluiceConfig = {
      backends,
      pools,
      poolLocationHints: Object.freeze(parseLocationHints(env.POOL_LOCATION_HINTS, pools)),
      policy: parsePolicy(env.POLICY),
      policyParams: Object.freeze({
        agingHorizonMs: positiveInt('AGING_HORIZON_MS', env.AGING_HORIZON_MS, d.agingHorizonMs),
        criticalityStepMs: nonNegative('CRITICALITY_STEP_MS', env.CRITICALITY_STEP_MS, d.criticalityStepMs),
        ratePenaltyMs: nonNegative('RATE_PENALTY_MS', env.RATE_PENALTY_MS, d.ratePenaltyMs),
        rateCapPerSec: positiveInt('RATE_CAP_PER_SEC', env.RATE_CAP_PER_SEC, d.rateCapPerSec),
        fairness: parseFairness(env.FAIRNESS),
        tokenCostMsPer1k: nonNegative('TOKEN_COST_MS_PER_1K', env.TOKEN_COST_MS_PER_1K, d.tokenCostMsPer1k),
      }),
      queueTtlMs: positiveInt('QUEUE_TTL_MS', env.QUEUE_TTL_MS, DEFAULT_QUEUE_TTL_MS),
      maxQueuePerWorkload: positiveInt(
        'MAX_QUEUE_PER_WORKLOAD',
        env.MAX_QUEUE_PER_WORKLOAD,
        DEFAULT_MAX_QUEUE_PER_WORKLOAD,
        1_000_000,
      ),
      leaseTtlMs: positiveInt('LEASE_TTL_MS', env.LEASE_TTL_MS, DEFAULT_LEASE_TTL_MS),
      backendCooldown: Object.freeze({
        baseMs: nonNegative(
          'BACKEND_COOLDOWN_BASE_MS',
          env.BACKEND_COOLDOWN_BASE_MS,
          BACKEND_COOLDOWN_BASE_MS,
        ),
        maxMs: nonNegative('BACKEND_COOLDOWN_MAX_MS', env.BACKEND_COOLDOWN_MAX_MS, BACKEND_COOLDOWN_MAX_MS),
      }),
      maxBodyBytes: positiveInt('MAX_BODY_BYTES', env.MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
      upstreamHeadersTimeoutMs: positiveInt(
        'UPSTREAM_HEADERS_TIMEOUT_MS',
        env.UPSTREAM_HEADERS_TIMEOUT_MS,
        DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS,
      ),
      upstreamIdleTimeoutMs: positiveInt(
        'UPSTREAM_IDLE_TIMEOUT_MS',
        env.UPSTREAM_IDLE_TIMEOUT_MS,
        DEFAULT_UPSTREAM_IDLE_TIMEOUT_MS,
      ),
      maxAttempts: positiveInt('UPSTREAM_MAX_ATTEMPTS', env.UPSTREAM_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, 10),
      ...parseSaturation(env),
      adminToken: parseAdminToken(env.ADMIN_TOKEN),
      auth: parseAuth(env),
      keyCacheTtlMs: nonNegative('AUTH_CACHE_TTL_MS', env.AUTH_CACHE_TTL_MS, DEFAULT_KEY_CACHE_TTL_MS),
      workloadLimits: Object.freeze(parseWorkloadLimits(env.WORKLOAD_LIMITS)),
      workloadWeights: Object.freeze(parseWorkloadWeights(env.WORKLOAD_WEIGHTS)),
      logLevel: parseLogLevel(env.LOG_LEVEL),
      metricsTopWorkloads: positiveInt(
        'METRICS_TOP_WORKLOADS',
        env.METRICS_TOP_WORKLOADS,
        DEFAULT_METRICS_TOP_WORKLOADS,
        MAX_METRICS_TOP_WORKLOADS,
      ),
    };
    if (config.backendCooldown.maxMs < config.backendCooldown.baseMs) {
      throw new ConfigFieldError('BACKEND_COOLDOWN_MAX_MS', 'must be ≥ BACKEND_COOLDOWN_BASE_MS');
    }
    return { ok: true, config: Object.freeze(config) };
  } catch (err) {
    if (err instanceof ConfigFieldError)
      return { ok: false, message: `Invalid configuration: ${err.message}` };
    throw err;
  }
}

const cache = new WeakMap<object, ConfigResult>();
let loggedError: string | null = null;
let invalidLoads = 0;

/** Invalid configurations this isolate has parsed (sluice_config_errors_total). */
export function configErrorCount(): number {
  return invalidLoads;
}

/** Parses once per env object; logs an invalid config once per isolate. */
export function loadConfig(env: Env): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env);
    cache.set(env, result);
    if (result.ok) logAuthModeOnce(result.config);
    if (!result.ok) invalidLoads++;
    if (!result.ok && loggedError !== result.message) {
      loggedError = result.message;
      // A bad config stops every request: always printed, whatever LOG_LEVEL says.
      console.error(JSON.stringify({ event: 'config_error', level: 'error', message: result.message }));
    }
  }
  return result;
}

let loggedAuthMode = false;

/**
 * Workers have no start hook: the first config an isolate parses says, once, how it is protected, so
 * `wrangler dev` and the deployed logs show it plainly. Always printed, whatever LOG_LEVEL says.
 */
function logAuthModeOnce(config: SluiceConfig): void {
  if (loggedAuthMode) return;
  loggedAuthMode = true;
  let message: string | null = null;
  if (config.auth === 'off') {
    message =
      'AUTH=off: the network is trusted. Inference needs no API key (a request presenting a Sluice key is still held to it), ' +
      (config.adminToken === null
        ? 'and the admin API is OPEN to anyone who can reach it (set ADMIN_TOKEN to close it).'
        : 'and the admin API needs ADMIN_TOKEN.');
  } else if (config.adminToken === null) {
    message =
      'AUTH=on without ADMIN_TOKEN: the admin API answers 403 until one is set (npx wrangler secret put ADMIN_TOKEN, or .dev.vars locally).';
  }
  if (message !== null)
    console.warn(JSON.stringify({ event: 'auth_mode', level: 'warn', auth: config.auth, message }));
}
