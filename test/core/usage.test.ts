// Usage reading: a whole JSON body, and an SSE stream split anywhere, with the usage-only chunk dropped
// only when Sluice asked for it. The result must not depend on how the bytes are chunked.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonUsageReader,
  MAX_USAGE_EVENT_BYTES,
  readJsonUsage,
  requestStreamUsage,
  SseUsageReader,
  type UsageReader,
} from '../../src/core/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Feeds `bytes` to the reader cut at `cuts`; returns the bytes passed on, as text. */
function run(reader: UsageReader, bytes: Uint8Array, cuts: readonly number[] = []): string {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const at of [...points, bytes.length]) {
    parts.push(reader.push(bytes.slice(from, at)));
    from = at;
  }
  parts.push(reader.finish());
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return decoder.decode(out);
}

const chunk = (content: string): string =>
  JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content } }], usage: null });
/** The same chunk as a client that did not ask for usage sees it: without the `usage: null` field. */
const clientChunk = (content: string): string =>
  JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content } }] });
const USAGE_ONLY = JSON.stringify({
  id: 'c',
  choices: [],
  usage: { prompt_tokens: 7, completion_tokens: 3 },
});

function stream(events: readonly string[], eol = '\n'): string {
  return events.map((e) => `data: ${e}${eol}${eol}`).join('') + `data: [DONE]${eol}${eol}`;
}

describe('readJsonUsage', () => {
  it('reads prompt and completion tokens from a response body', () => {
    const body = { choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } };
    expect(readJsonUsage(JSON.stringify(body))).toEqual({ promptTokens: 12, completionTokens: 5 });
  });

  it('counts no completion tokens for an embedding (none reported)', () => {
    expect(readJsonUsage('{"data":[],"usage":{"prompt_tokens":4,"total_tokens":4}}')).toEqual({
      promptTokens: 4,
      completionTokens: 0,
    });
  });

  it('is null for a body without usage, with a malformed one, or that is not JSON', () => {
    expect(readJsonUsage('{"choices":[]}')).toBeNull();
    expect(readJsonUsage('{"usage":null}')).toBeNull();
    expect(readJsonUsage('{"usage":{"prompt_tokens":-1,"completion_tokens":2}}')).toBeNull();
    expect(readJsonUsage('{"usage":{"prompt_tokens":"3"}}')).toBeNull();
    expect(readJsonUsage('{"error":')).toBeNull();
  });

  it('reads a body split into chunks, which pass on unchanged', () => {
    const body = JSON.stringify({ model: 'm', usage: { prompt_tokens: 9, completion_tokens: 1 } });
    const reader = new JsonUsageReader();
    expect(run(reader, encoder.encode(body), [1, 10, 30])).toBe(body);
    expect(reader.usage).toEqual({ promptTokens: 9, completionTokens: 1 });
  });
});

describe('SseUsageReader', () => {
  it('reads the usage of the last chunk and, when the client asked for it, passes it on', () => {
    const text = stream([chunk('a'), chunk('b'), USAGE_ONLY]);
    const reader = new SseUsageReader({ dropUsageOnly: false });
    expect(run(reader, encoder.encode(text))).toBe(text);
    expect(reader.usage).toEqual({ promptTokens: 7, completionTokens: 3 });
  });

  it('drops the usage-only chunk it asked for on the client behalf, and nothing else', () => {
    const reader = new SseUsageReader({ dropUsageOnly: true });
    const out = run(reader, encoder.encode(stream([chunk('a'), chunk('b'), USAGE_ONLY])));
    expect(out).toBe(stream([clientChunk('a'), clientChunk('b')]));
    expect(reader.usage).toEqual({ promptTokens: 7, completionTokens: 3 });
  });

  it('removes the `usage: null` field it asked for where servers write it, last; elsewhere leaves the chunk whole', () => {
    const reader = new SseUsageReader({ dropUsageOnly: true });
    const spaced = '{"id": "c", "choices": [{"index": 0}], "usage": null}';
    const first = '{"usage":null,"id":"c","choices":[{"index":0}]}';
    const out = run(reader, encoder.encode(stream([spaced, first])));
    expect(out).toBe(stream(['{"id": "c", "choices": [{"index": 0}]}', first]));
    // Asked for by the client: nothing is touched.
    const asked = new SseUsageReader({ dropUsageOnly: false });
    expect(run(asked, encoder.encode(stream([spaced])))).toBe(stream([spaced]));
  });

  it('touches only a top-level `usage: null`: not a nested one, not the word in content', () => {
    const nested = '{"id":"c","choices":[{"index":0,"delta":{"usage":null}}]}';
    const inContent = '{"id":"c","choices":[{"index":0,"delta":{"content":"\\"usage\\": null}"}}]}';
    const reader = new SseUsageReader({ dropUsageOnly: true });
    expect(run(reader, encoder.encode(stream([nested, inContent])))).toBe(stream([nested, inContent]));
    expect(reader.usage).toBeNull();
  });

  it('keeps a chunk that carries usage alongside choices (continuous usage stats)', () => {
    const both = JSON.stringify({
      choices: [{ index: 0, delta: {} }],
      usage: { prompt_tokens: 2, completion_tokens: 1 },
    });
    const text = stream([both]);
    const reader = new SseUsageReader({ dropUsageOnly: true });
    expect(run(reader, encoder.encode(text))).toBe(text);
    expect(reader.usage).toEqual({ promptTokens: 2, completionTokens: 1 });
  });

  it('handles CRLF and CR line ends, comments and other fields', () => {
    for (const eol of ['\r\n', '\r']) {
      const head = `: ping${eol}${eol}event: x${eol}id: 1${eol}`;
      const reader = new SseUsageReader({ dropUsageOnly: true });
      const out = run(reader, encoder.encode(head + stream([chunk('a'), USAGE_ONLY], eol)));
      expect(out).toBe(head + stream([clientChunk('a')], eol));
      expect(reader.usage).toEqual({ promptTokens: 7, completionTokens: 3 });
    }
  });

  it('ignores malformed JSON, events without usage and [DONE]', () => {
    const head = 'data: {"choices":[\n\ndata: not json\n\n';
    const reader = new SseUsageReader({ dropUsageOnly: true });
    expect(run(reader, encoder.encode(head + stream([chunk('a')])))).toBe(head + stream([clientChunk('a')]));
    expect(reader.usage).toBeNull();
  });

  it('joins the data lines of one event', () => {
    const text = 'data: {"choices":[],\ndata: "usage":{"prompt_tokens":1,"completion_tokens":2}}\n\n';
    const reader = new SseUsageReader({ dropUsageOnly: false });
    run(reader, encoder.encode(text));
    expect(reader.usage).toEqual({ promptTokens: 1, completionTokens: 2 });
  });

  it('does not read an event left unterminated at the end, but passes its bytes on', () => {
    const tail = `data: ${USAGE_ONLY}\n`;
    const reader = new SseUsageReader({ dropUsageOnly: true });
    expect(run(reader, encoder.encode(`data: ${chunk('a')}\n\n${tail}`))).toBe(
      `data: ${clientChunk('a')}\n\n${tail}`,
    );
    expect(reader.usage).toBeNull();
  });

  it('passes every chunk on at once, as the same bytes, when it drops nothing', () => {
    const reader = new SseUsageReader({ dropUsageOnly: false });
    const part = encoder.encode('data: {"choi');
    expect(reader.push(part)).toBe(part);
  });

  it('stops reading an event too large to hold and passes it all on', () => {
    const huge = `data: {"x":"${'y'.repeat(MAX_USAGE_EVENT_BYTES + 1000)}"}\n\n`;
    const rest = huge + `data: ${USAGE_ONLY}\n\n`;
    const reader = new SseUsageReader({ dropUsageOnly: true });
    const out = run(reader, encoder.encode(`data: ${chunk('a')}\n\n` + rest), [
      40,
      5000,
      MAX_USAGE_EVENT_BYTES + 500,
    ]);
    expect(out).toBe(`data: ${clientChunk('a')}\n\n` + rest);
    expect(reader.usage).toBeNull();
  });

  const events = fc.array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => `data: ${chunk(s)}`),
      fc
        .nat(1000)
        .map(
          (n) =>
            `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: n, completion_tokens: n % 7 } })}`,
        ),
      fc.constant(': ping'),
      fc.constant('data: {"broken'),
      fc.constant('data: [DONE]'),
    ),
    { maxLength: 8 },
  );

  it('gives the same bytes and usage however the stream is split (property)', () => {
    fc.assert(
      fc.property(
        events,
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        fc.array(fc.nat(4000), { maxLength: 30 }),
        (evs, eol, drop, cuts) => {
          const bytes = encoder.encode(evs.map((e) => `${e}${eol}${eol}`).join(''));
          const whole = new SseUsageReader({ dropUsageOnly: drop });
          const expected = run(whole, bytes);
          const split = new SseUsageReader({ dropUsageOnly: drop });
          expect(run(split, bytes, cuts)).toBe(expected);
          expect(split.usage).toEqual(whole.usage);
          // One byte at a time, too: every CRLF and every multi-byte character is split.
          const bytewise = new SseUsageReader({ dropUsageOnly: drop });
          expect(run(bytewise, bytes, [...bytes.keys()])).toBe(expected);
          expect(bytewise.usage).toEqual(whole.usage);
          if (!drop) expect(expected).toBe(decoder.decode(bytes));
        },
      ),
    );
  });

  it('drops exactly the usage-only events and reads the last usage (property)', () => {
    fc.assert(
      fc.property(events, fc.constantFrom('\n', '\r\n'), (evs, eol) => {
        const bytes = encoder.encode(evs.map((e) => `${e}${eol}${eol}`).join(''));
        const reader = new SseUsageReader({ dropUsageOnly: true });
        const kept = evs
          .filter((e) => !e.includes('"choices":[],'))
          .map((e) => e.replace(/,"usage":null\}$/, '}'));
        expect(run(reader, bytes)).toBe(kept.map((e) => `${e}${eol}${eol}`).join(''));
        const last = evs.filter((e) => e.includes('"choices":[],')).at(-1);
        const usage =
          last === undefined
            ? null
            : (JSON.parse(last.slice(6)) as { usage: { prompt_tokens: number; completion_tokens: number } })
                .usage;
        expect(reader.usage).toEqual(
          usage && { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
        );
      }),
    );
  });
});

describe('requestStreamUsage', () => {
  const bytesOf = (body: Record<string, unknown>): Uint8Array => encoder.encode(JSON.stringify(body));

  it('adds include_usage to a stream that did not ask, keeping the rest of the bytes', () => {
    const body = { model: 'm', stream: true, messages: [] };
    const out = requestStreamUsage(body, bytesOf(body));
    expect(out.injected).toBe(true);
    expect(decoder.decode(out.bytes)).toBe(
      '{"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}',
    );
  });

  it('merges include_usage into existing stream_options', () => {
    const body = { model: 'm', stream: true, stream_options: { include_usage: false, other: 1 } };
    const out = requestStreamUsage(body, bytesOf(body));
    expect(out.injected).toBe(true);
    expect(JSON.parse(decoder.decode(out.bytes))).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true, other: 1 },
    });
  });

  it('leaves alone a client that asked, a request that does not stream, and invalid stream_options', () => {
    for (const body of [
      { model: 'm', stream: true, stream_options: { include_usage: true } },
      { model: 'm' },
      { model: 'm', stream: false },
      { model: 'm', stream: true, stream_options: 'yes' },
    ]) {
      const bytes = bytesOf(body);
      expect(requestStreamUsage(body, bytes)).toEqual({ bytes, injected: false });
    }
  });

  it('inserts after the opening brace behind leading whitespace', () => {
    const text = '  \n{ "model": "m", "stream": true }';
    const out = requestStreamUsage(JSON.parse(text) as Record<string, unknown>, encoder.encode(text));
    expect(JSON.parse(decoder.decode(out.bytes))).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});
