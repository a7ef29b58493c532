// Fetches a backend's Prometheus /metrics and reads its engine load (vLLM or SGLang names), and probes
// its health endpoint. The parsing and every rule about what the answers mean are in src/core; this is
// the I/O.

import {
  ENGINE_LOAD_METRIC_NAMES,
  parsePrometheusText,
  readEngineLoad,
  type EngineLoad,
} from '../core/index.ts';
import { backendAuthHeaders, type BackendConfig } from './config.ts';

/** null: the page has no engine load metrics. Throws when the backend cannot be read in time. */
export async function readEngineMetrics(
  backend: BackendConfig,
  timeoutMs: number,
): Promise<EngineLoad | null> {
  const res = await fetch(`${backend.url}/metrics`, {
    headers: {
      accept: 'text/plain; version=0.0.4',
      ...backendAuthHeaders(backend),
    },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const { samples } = parsePrometheusText(await res.text(), { only: ENGINE_LOAD_METRIC_NAMES });
  return readEngineLoad(samples);
}

/** Longest wait for a health probe: a healthy server answers /health in milliseconds. */
export const HEALTH_PROBE_TIMEOUT_MS = 2_000;

/**
 * True when the backend answers its health endpoint (vLLM, SGLang and TGI serve GET /health; a server
 * without one is asked for GET /v1/models instead).
 */
export async function probeHealth(backend: BackendConfig): Promise<boolean> {
  const get = (path: string) =>
    fetch(`${backend.url}${path}`, {
      headers: backendAuthHeaders(backend),
      signal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS),
    });
  const health = await get('/health');
  await health.body?.cancel();
  if (health.status !== 404) return health.ok;
  const models = await get('/v1/models');
  await models.body?.cancel();
  return models.ok;
}
