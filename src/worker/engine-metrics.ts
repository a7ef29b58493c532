// Fetches a backend's Prometheus /metrics and reads its engine load (vLLM or SGLang names). The parsing
// and every rule about what the numbers mean are in src/core; this is the I/O.

import {
  ENGINE_LOAD_METRIC_NAMES,
  parsePrometheusText,
  readEngineLoad,
  type EngineLoad,
} from '../core/index.ts';
import type { BackendConfig } from './config.ts';

/** null: the page has no engine load metrics. Throws when the backend cannot be read in time. */
export async function readEngineMetrics(
  backend: BackendConfig,
  timeoutMs: number,
): Promise<EngineLoad | null> {
  const res = await fetch(`${backend.url}/metrics`, {
    headers: {
      accept: 'text/plain; version=0.0.4',
      ...(backend.apiKey !== undefined ? { authorization: `Bearer ${backend.apiKey}` } : {}),
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
