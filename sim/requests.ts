// Request-body validation for the inference endpoints: raw JSON in, a typed request or a 400 out.
// Lenient about fields the simulator ignores (temperature, n, tools...); strict about the ones it honours.

export type InferenceEndpoint = 'chat' | 'completions' | 'embeddings';

export interface GenerationRequest {
  readonly kind: 'generation';
  readonly endpoint: 'chat' | 'completions';
  readonly model: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  /** The completion's token limit: the client's, or `--default-max-tokens`. */
  readonly maxTokens: number;
  /** Why a completion that reaches `maxTokens` ends: 'length' for the client's limit, 'stop' for the default. */
  readonly finishReason: 'length' | 'stop';
  readonly promptTokens: number;
}

export interface EmbeddingRequest {
  readonly kind: 'embedding';
  readonly model: string;
  /** One entry per input; token-id arrays are kept as their JSON text, which is all a vector needs. */
  readonly inputs: readonly string[];
  readonly promptTokens: number;
}

export interface RequestError {
  readonly message: string;
  readonly code: 'invalid_json' | 'invalid_type' | 'invalid_value' | 'missing_required_parameter';
  readonly param: string | null;
}

export type ParseResult =
  | { readonly ok: true; readonly request: GenerationRequest | EmbeddingRequest }
  | { readonly ok: false; readonly error: RequestError };

/** The usual rule of thumb for English text: about four characters per token. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

type Json = Readonly<Record<string, unknown>>;

function invalid(code: RequestError['code'], param: string | null, message: string): ParseResult {
  return { ok: false, error: { code, param, message } };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isTokenIds = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((v) => Number.isInteger(v));

/** OpenAI's prompt/input forms: a string, strings, token ids, or lists of token ids. */
function readTextInputs(value: unknown): { texts: string[]; tokens: number } | null {
  if (typeof value === 'string') return { texts: [value], tokens: estimateTokens(value.length) };
  if (!Array.isArray(value) || value.length === 0) return null;
  if (value.every((v) => typeof v === 'string')) {
    return { texts: value, tokens: value.reduce((sum, text) => sum + estimateTokens(text.length), 0) };
  }
  if (isTokenIds(value)) return { texts: [JSON.stringify(value)], tokens: value.length };
  if (value.every(isTokenIds)) {
    return {
      texts: value.map((ids) => JSON.stringify(ids)),
      tokens: value.reduce((n, ids) => n + ids.length, 0),
    };
  }
  return null;
}

/** Characters of text in chat messages: string content and the text of content parts. */
function countMessageChars(messages: readonly unknown[]): number {
  let chars = 0;
  for (const message of messages) {
    if (!isObject(message)) continue;
    const content = message['content'];
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (isObject(part) && typeof part['text'] === 'string') chars += part['text'].length;
      }
    }
  }
  return chars;
}

export function parseInferenceRequest(
  endpoint: InferenceEndpoint,
  rawBody: string,
  defaultMaxTokens: number,
): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return invalid('invalid_json', null, 'Request body is not valid JSON.');
  }
  if (!isObject(body)) return invalid('invalid_type', null, 'Request body must be a JSON object.');

  const model = body['model'];
  if (model === undefined || model === null) {
    return invalid('missing_required_parameter', 'model', "Missing required parameter: 'model'.");
  }
  if (typeof model !== 'string' || model === '') {
    return invalid('invalid_type', 'model', "'model' must be a non-empty string.");
  }

  if (endpoint === 'embeddings') {
    const input = body['input'];
    if (input === undefined || input === null) {
      return invalid('missing_required_parameter', 'input', "Missing required parameter: 'input'.");
    }
    const read = readTextInputs(input);
    if (read === null) {
      return invalid('invalid_type', 'input', "'input' must be a string, strings, or token ids (non-empty).");
    }
    return { ok: true, request: { kind: 'embedding', model, inputs: read.texts, promptTokens: read.tokens } };
  }

  let promptTokens: number;
  if (endpoint === 'chat') {
    const messages = body['messages'];
    if (messages === undefined || messages === null) {
      return invalid('missing_required_parameter', 'messages', "Missing required parameter: 'messages'.");
    }
    if (!Array.isArray(messages) || messages.length === 0) {
      return invalid('invalid_type', 'messages', "'messages' must be a non-empty array.");
    }
    promptTokens = estimateTokens(countMessageChars(messages));
  } else {
    const prompt = body['prompt'];
    if (prompt === undefined || prompt === null) {
      return invalid('missing_required_parameter', 'prompt', "Missing required parameter: 'prompt'.");
    }
    const read = readTextInputs(prompt);
    if (read === null) {
      return invalid(
        'invalid_type',
        'prompt',
        "'prompt' must be a string, strings, or token ids (non-empty).",
      );
    }
    promptTokens = read.tokens;
  }

  // As in vLLM, `max_completion_tokens` (the newer name) wins over `max_tokens` on chat.
  const maxParam =
    endpoint === 'chat' && body['max_completion_tokens'] != null ? 'max_completion_tokens' : 'max_tokens';
  const requested = body[maxParam];
  if (requested != null && !(Number.isInteger(requested) && (requested as number) >= 1)) {
    return invalid('invalid_value', maxParam, `'${maxParam}' must be an integer >= 1.`);
  }

  const stream = body['stream'];
  if (stream != null && typeof stream !== 'boolean') {
    return invalid('invalid_type', 'stream', "'stream' must be a boolean.");
  }
  const streamOptions = body['stream_options'];
  if (streamOptions != null && !isObject(streamOptions)) {
    return invalid('invalid_type', 'stream_options', "'stream_options' must be an object.");
  }
  const includeUsage = streamOptions?.['include_usage'];
  if (includeUsage != null && typeof includeUsage !== 'boolean') {
    return invalid('invalid_type', 'stream_options.include_usage', "'include_usage' must be a boolean.");
  }

  return {
    ok: true,
    request: {
      kind: 'generation',
      endpoint,
      model,
      stream: stream === true,
      includeUsage: includeUsage === true,
      maxTokens: typeof requested === 'number' ? requested : defaultMaxTokens,
      finishReason: requested == null ? 'stop' : 'length',
      promptTokens,
    },
  };
}
