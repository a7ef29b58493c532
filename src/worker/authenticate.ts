// Inference authentication: the request's API key → its principal, or a 401 before anything is queued or
// counted against a workload (the failure itself is counted, see auth-failures.ts). With AUTH=off a
// request without a Sluice key is trusted (null principal); one that presents a Sluice key is held to it.

import { inferenceCredential, type KeyRefusal, type Principal } from '../core/index.ts';
import { countAuthFailure } from './auth-failures.ts';
import type { SluiceConfig } from './config.ts';
import type { Env } from './env.ts';
import { errorResponse } from './http-error.ts';
import { KeyStore } from './key-store.ts';

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal | null }
  | { readonly ok: false; readonly response: Response };

const MESSAGES: Record<KeyRefusal, string> = {
  missing: 'An API key is required: send Authorization: Bearer <key> (the OpenAI SDK does this for apiKey).',
  malformed: 'The API key is not a Sluice API key (expected sk-sluice-…).',
  unknown: 'The API key is not valid.',
  revoked: 'The API key has been revoked.',
};

export async function authenticate(
  request: Request,
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  config: SluiceConfig,
  headers: Record<string, string>,
): Promise<AuthResult> {
  const credential = inferenceCredential(config.auth === 'on', request.headers.get('authorization'));
  const kv = env.KEYS;
  // (With AUTH on, config parsing has made sure the binding exists.)
  if (credential.kind === 'trusted' || kv === undefined) return { ok: true, principal: null };
  let reason: KeyRefusal;
  if (credential.kind === 'refused') {
    reason = credential.reason;
  } else {
    const found = await new KeyStore(kv, config.keyCacheTtlMs).lookup(credential.key, Date.now());
    if (found.ok) return { ok: true, principal: found.principal };
    reason = found.reason;
  }
  countAuthFailure(env, ctx, reason);
  return {
    ok: false,
    response: errorResponse(
      { code: 'invalid_api_key', message: MESSAGES[reason] },
      { ...headers, 'www-authenticate': 'Bearer realm="sluice"' },
    ),
  };
}
