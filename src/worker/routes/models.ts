// GET /v1/models: the models the pools list in config, plus what a catch-all pool's backends report.

import { backendAuthHeaders, type BackendConfig, type SluiceConfig } from '../config.ts';
import { errorResponse, NO_BACKEND_RETRY_AFTER_SEC, UPSTREAM_RETRY_AFTER_SEC } from '../http-error.ts';

/** A backend slow to list its models is skipped rather than holding the whole answer. */
const MODELS_TIMEOUT_MS = 5_000;

interface ModelEntry {
  readonly id: string;
  readonly [key: string]: unknown;
}

/**
 * Models a pool lists in config are served as listed, without asking anyone; a catch-all pool (no model
 * list) serves whatever its backends report, asked with their own configured key (never the client's).
 */
export async function handleModels(config: SluiceConfig): Promise<Response> {
  if (config.backends.length === 0) {
    return errorResponse({
      code: 'no_backend',
      message: 'No backend is configured (set BACKENDS).',
      retryAfterSec: NO_BACKEND_RETRY_AFTER_SEC,
    });
  }
  const byId = new Map<string, ModelEntry>();
  for (const pool of config.pools.pools) {
    for (const id of pool.models ?? []) {
      byId.set(id, { id, object: 'model', owned_by: 'sluice', pool: pool.name });
    }
  }
  const catchAll = config.pools.catchAll;
  if (!catchAll) return Response.json({ object: 'list', data: [...byId.values()] });
  const lists = await Promise.all(catchAll.backends.map((backend) => listBackendModels(backend)));
  if (byId.size === 0 && lists.every((l) => l === null)) {
    return errorResponse({
      code: 'upstream_unreachable',
      message: 'No backend answered /v1/models.',
      retryAfterSec: UPSTREAM_RETRY_AFTER_SEC,
    });
  }
  for (const list of lists) {
    for (const model of list ?? [])
      if (!byId.has(model.id)) byId.set(model.id, { ...model, pool: catchAll.name });
  }
  return Response.json({ object: 'list', data: [...byId.values()] });
}

async function listBackendModels(backend: BackendConfig): Promise<ModelEntry[] | null> {
  try {
    const res = await fetch(`${backend.url}/v1/models`, {
      headers: backendAuthHeaders(backend),
      signal: AbortSignal.timeout(MODELS_TIMEOUT_MS),
    });
    if (!res.ok) return null;
    const json = (await res.json()) as { data?: unknown };
    return Array.isArray(json.data) ? json.data.filter(isModelEntry) : null;
  } catch {
    return null;
  }
}

function isModelEntry(value: unknown): value is ModelEntry {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}
