// The core as the lab drives it: the one LocalScheduler configuration, and the one way a modelled request
// is admitted and completed. Shared by the single-coordinator lab (simulate.ts) and the sharding study,
// so the two cannot drive the core differently; it schedules nothing and keeps no clock.

import { LocalScheduler, type LocalAdmitResult } from '../src/core/local-scheduler.ts';
import { ENDED } from '../src/core/outcome.ts';
import type { Policy } from '../src/core/policy/types.ts';
import type { Criticality } from '../src/core/workload-context.ts';
import { toBackendSpecs } from './backend-model.ts';
import { chargesUsage, createLabPolicy, legacyTokenTags, type LabPolicyName } from './policies.ts';
import type { SimRequest } from './requests.ts';
import type { Scenario } from './scenario.ts';

/**
 * The router renews a running request's lease (heartbeat) and the lab models no crashes, so leases and
 * in-flight requests never expire here, however long a generation runs.
 */
const NEVER_EXPIRES_MS = 1e12;

/**
 * A scheduler for `scenario` under `policyName`. `policy` replaces the policy object only to observe it
 * (the sharding study wraps it to record scores); it MUST decide as createLabPolicy(policyName) does.
 */
export function createLabScheduler(
  scenario: Scenario,
  policyName: LabPolicyName,
  policy: Policy = createLabPolicy(policyName),
): LocalScheduler {
  return new LocalScheduler({
    policy,
    backends: toBackendSpecs(scenario.backends),
    leaseTtlMs: NEVER_EXPIRES_MS,
    legacyTokenTags: legacyTokenTags(policyName),
    // Nothing in the lab reads the coordinator's /metrics summary.
    metricsReports: false,
    workload: {
      inFlightTtlMs: NEVER_EXPIRES_MS,
      queueTtlMs: scenario.queueTtlMs,
      ...(scenario.maxQueuePerWorkload !== undefined ? { maxQueue: scenario.maxQueuePerWorkload } : {}),
    },
  });
}

/** Admits `request` as the router would on its arrival. The scenario was validated (criticality 1..5). */
export function admitLabRequest(
  scheduler: LocalScheduler,
  request: SimRequest,
  now: number,
): LocalAdmitResult {
  // The router estimates prompt bytes / 4 + max_tokens. The lab's prompts are empty, so the estimate is
  // the client's max_tokens, at least the length it will generate (see token-lengths.ts).
  return scheduler.admit(
    request.workloadId,
    request.id,
    request.criticality as Criticality,
    now,
    request.maxTokens,
    request.weight,
  );
}

/** Ends `request` as completed; false if the core did not record it (see LocalScheduler.complete). */
export function completeLabRequest(
  scheduler: LocalScheduler,
  request: SimRequest,
  policyName: LabPolicyName,
  now: number,
): boolean {
  return scheduler.complete(
    request.workloadId,
    request.id,
    ENDED.completed,
    now,
    // The backend reports what it generated, as the router reads it from the answer; a policy that
    // charges estimates only is run without it (the dispatcher then keeps the estimate).
    chargesUsage(policyName) ? { promptTokens: 0, completionTokens: request.tokens } : undefined,
  );
}
