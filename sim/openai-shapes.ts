// OpenAI-compatible JSON bodies: completions, stream chunks, embeddings, model list and errors.
// Pure builders; field order and nulls follow what vLLM sends, so clients parse them unchanged.

import type { CompletionOutput } from './output-length.ts';
import { createPrng, hashString } from './prng.ts';
import type { EmbeddingRequest, GenerationRequest } from './requests.ts';

const WORDS = ['tok', 'sim', 'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'flow'] as const;

/** Embedding width: small, since only shape and determinism matter to a router. */
export const EMBEDDING_DIMENSIONS = 8;

/** The text of token `index`: a short word, space-separated from the previous one. */
export function tokenText(index: number): string {
  const word = WORDS[index % WORDS.length] ?? 'tok';
  return index === 0 ? word : ` ${word}`;
}

export function completionText(tokens: number): string {
  let text = '';
  for (let i = 0; i < tokens; i++) text += tokenText(i);
  return text;
}

/** What every body of one response shares. */
export interface ResponseMeta {
  readonly id: string;
  readonly created: number;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function usageOf(request: GenerationRequest, completionTokens: number): Usage {
  return {
    prompt_tokens: request.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: request.promptTokens + completionTokens,
  };
}

export function buildCompletion(
  request: GenerationRequest,
  meta: ResponseMeta,
  output: CompletionOutput,
): object {
  const text = completionText(output.tokens);
  const choice =
    request.endpoint === 'chat'
      ? {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: null,
          finish_reason: output.finishReason,
        }
      : { index: 0, text, logprobs: null, finish_reason: output.finishReason };
  return {
    id: meta.id,
    object: request.endpoint === 'chat' ? 'chat.completion' : 'text_completion',
    created: meta.created,
    model: request.model,
    choices: [choice],
    usage: usageOf(request, output.tokens),
  };
}

/**
 * One stream chunk. `index` is the token to carry, or null for the closing chunk with the finish reason.
 * With include_usage, OpenAI sends `usage: null` on every chunk and the totals on a final extra chunk.
 */
export function buildChunk(
  request: GenerationRequest,
  meta: ResponseMeta,
  output: CompletionOutput,
  index: number | null,
): object {
  const finishReason = index === null ? output.finishReason : null;
  let choice: object;
  if (request.endpoint === 'chat') {
    const delta =
      index === null
        ? {}
        : index === 0
          ? { role: 'assistant', content: tokenText(0) }
          : { content: tokenText(index) };
    choice = { index: 0, delta, logprobs: null, finish_reason: finishReason };
  } else {
    choice = {
      index: 0,
      text: index === null ? '' : tokenText(index),
      logprobs: null,
      finish_reason: finishReason,
    };
  }
  return {
    id: meta.id,
    object: request.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: meta.created,
    model: request.model,
    choices: [choice],
    ...(request.includeUsage ? { usage: null } : {}),
  };
}

export function buildUsageChunk(
  request: GenerationRequest,
  meta: ResponseMeta,
  output: CompletionOutput,
): object {
  return {
    id: meta.id,
    object: request.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: meta.created,
    model: request.model,
    choices: [],
    usage: usageOf(request, output.tokens),
  };
}

/** A unit vector derived from the text alone, so equal inputs embed equally across runs and backends. */
export function embeddingVector(text: string): number[] {
  const random = createPrng(hashString(text));
  const raw = Array.from({ length: EMBEDDING_DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => v / norm);
}

export function buildEmbeddings(request: EmbeddingRequest): object {
  return {
    object: 'list',
    data: request.inputs.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: embeddingVector(text),
    })),
    model: request.model,
    usage: { prompt_tokens: request.promptTokens, total_tokens: request.promptTokens },
  };
}

export function buildModelList(models: readonly string[], created: number): object {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', owned_by: 'sluice-sim', created })),
  };
}

export type ErrorType = 'invalid_request_error' | 'server_error';

export function buildError(
  message: string,
  type: ErrorType,
  code: string,
  param: string | null = null,
): object {
  return { error: { message, type, param, code } };
}
