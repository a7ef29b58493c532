// A demo load for `npm start -- --demo` and the dashboard's browser test: several workloads of
// different criticality sending to the router at their own rates, so the queues, the criticality order
// and the fairness gauge have something to show. Each workload keeps at most `maxOpen` requests open,
// and the whole load stops at `maxRequests`, so it is bounded however slow the backends are. A workload
// with an API key (AUTH=on, see demo-keys.ts) sends it as its bearer token; a refused request (401/403)
// is said once, loudly, since a refused demo otherwise looks like an idle one.

export interface DemoWorkload {
  readonly workloadId: string;
  readonly criticality: 1 | 2 | 3 | 4 | 5;
  readonly ratePerSec: number;
  readonly model: string;
  readonly maxTokens: number;
}

export interface DemoLoadOptions {
  readonly url: string;
  readonly workloads: readonly DemoWorkload[];
  /** Requests open at once per workload; arrivals beyond it are skipped (counted as `skipped`). */
  readonly maxOpen?: number;
  /** The load stops by itself after this many requests in all. */
  readonly maxRequests?: number;
  /** API key secrets by workload ID, sent as `Authorization: Bearer`; workloads without one send none. */
  readonly apiKeys?: ReadonlyMap<string, string>;
  /** Where the one-time "requests are refused" message goes; default console.warn. */
  readonly warn?: (message: string) => void;
}

export interface DemoStats {
  sent: number;
  skipped: number;
  byStatus: Map<number, number>;
  /** 200 answers by workload ID: what the router's registry should count as that workload's successes. */
  okByWorkload: Map<string, number>;
  failed: number;
}

export interface DemoLoad {
  /** Sent, answered by status, skipped (the workload had maxOpen requests open), and failed (no answer). */
  readonly stats: DemoStats;
  /** Stops sending and waits for the requests still open. */
  stop(): Promise<void>;
}

/** The demo's tenants, for the two pools `npm start` simulates (llama-70b: 2 × 4 slots, qwen-7b: 2). */
export function defaultDemoWorkloads(): DemoWorkload[] {
  // The llama pool serves about 4-5 requests/s at these lengths: together they ask for a bit more, so
  // queues form and the criticality order shows; two criticality-2 tenants let the fairness gauge read.
  return [
    { workloadId: 'checkout-assistant', criticality: 5, ratePerSec: 0.7, model: 'llama-70b', maxTokens: 16 },
    { workloadId: 'support-chat', criticality: 4, ratePerSec: 1, model: 'llama-70b', maxTokens: 24 },
    { workloadId: 'doc-summaries', criticality: 2, ratePerSec: 1.5, model: 'llama-70b', maxTokens: 40 },
    { workloadId: 'report-writer', criticality: 2, ratePerSec: 0.8, model: 'llama-70b', maxTokens: 40 },
    { workloadId: 'nightly-evals', criticality: 1, ratePerSec: 1.5, model: 'llama-70b', maxTokens: 32 },
    { workloadId: 'search-rerank', criticality: 3, ratePerSec: 4, model: 'qwen-7b', maxTokens: 16 },
    { workloadId: 'backfill-embeddings', criticality: 1, ratePerSec: 3, model: 'qwen-7b', maxTokens: 24 },
  ];
}

/** The one-time message for a refused demo request, with the router's own reason. */
function refusalMessage(workloadId: string, status: number, body: string, keyed: boolean): string {
  let reason = body.slice(0, 200);
  try {
    const error = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (error?.message) reason = `${error.code ?? 'error'}: ${error.message}`;
  } catch {
    // not JSON: the text itself
  }
  const fix = keyed
    ? 'Its demo API key was refused (revoked or unknown to this router?).'
    : 'The demo sent no API key: run it with AUTH=off, or with AUTH=on and an ADMIN_TOKEN so it creates keys.';
  return (
    `\nDemo load: a request of ${workloadId} was refused with ${status} (${reason}).\n${fix}\n` +
    'Refused requests reach no queue and show on no dashboard; they are counted by status, and this ' +
    'message is not repeated.'
  );
}

export function startDemoLoad(opts: DemoLoadOptions): DemoLoad {
  const maxOpen = opts.maxOpen ?? 40;
  const maxRequests = opts.maxRequests ?? 100_000;
  const stats: DemoStats = {
    sent: 0,
    skipped: 0,
    byStatus: new Map<number, number>(),
    okByWorkload: new Map<string, number>(),
    failed: 0,
  };
  const warn = opts.warn ?? ((message: string) => console.warn(message));
  let refusalSaid = false;
  const open = new Set<Promise<void>>();
  const openBy = new Map<string, number>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const send = (w: DemoWorkload): void => {
    if (stopped || stats.sent >= maxRequests) return;
    if ((openBy.get(w.workloadId) ?? 0) >= maxOpen) {
      stats.skipped++;
      return;
    }
    stats.sent++;
    openBy.set(w.workloadId, (openBy.get(w.workloadId) ?? 0) + 1);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      // Sent with a key too: the key's grant allows exactly this workload and criticality.
      'x-workload-context': JSON.stringify({ workload_id: w.workloadId, criticality: w.criticality }),
    };
    const apiKey = opts.apiKeys?.get(w.workloadId);
    if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
    const request = fetch(`${opts.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: w.model,
        messages: [{ role: 'user', content: `demo request from ${w.workloadId}` }],
        // Varied lengths, so token counts differ from request counts.
        max_tokens: Math.max(1, Math.round(w.maxTokens * (0.5 + ((stats.sent * 7919) % 100) / 100))),
      }),
    })
      .then(async (res) => {
        const body = await res.text();
        stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
        if (res.status === 200) {
          stats.okByWorkload.set(w.workloadId, (stats.okByWorkload.get(w.workloadId) ?? 0) + 1);
        }
        if ((res.status === 401 || res.status === 403) && !refusalSaid) {
          refusalSaid = true;
          warn(refusalMessage(w.workloadId, res.status, body, apiKey !== undefined));
        }
      })
      .catch(() => {
        stats.failed++;
      })
      .finally(() => {
        openBy.set(w.workloadId, (openBy.get(w.workloadId) ?? 1) - 1);
        open.delete(request);
      });
    open.add(request);
  };

  for (const w of opts.workloads) {
    timers.push(setInterval(() => send(w), Math.max(10, 1000 / w.ratePerSec)));
  }
  return {
    stats,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      while (open.size > 0) await Promise.all([...open]);
    },
  };
}
