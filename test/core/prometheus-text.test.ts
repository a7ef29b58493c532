// The Prometheus text parser: every construct of the 0.0.4 format vLLM and SGLang emit, malformed lines
// skipped and counted (never thrown), a name filter that agrees with filtering afterwards, and a
// round trip through the format's escaping for arbitrary label values.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/core/prometheus-text.ts';

const one = (line: string): Sample | undefined => {
  const { samples, skippedLines } = parsePrometheusText(line);
  expect(skippedLines, line).toBe(0);
  expect(samples, line).toHaveLength(1);
  return samples[0];
};

describe('parsePrometheusText', () => {
  it('reads a vLLM-style body: HELP/TYPE skipped, colons in names, labels, histogram lines', () => {
    const body = [
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 3.0',
      '# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.',
      '# TYPE vllm:time_to_first_token_seconds histogram',
      'vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="Qwen/Qwen3-8B"} 0.0',
      'vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-8B"} 17.0',
      'vllm:time_to_first_token_seconds_count{engine="0",model_name="Qwen/Qwen3-8B"} 17.0',
      'vllm:time_to_first_token_seconds_sum{engine="0",model_name="Qwen/Qwen3-8B"} 2.3518979474117756e+06',
      '',
      'process_open_fds 42',
      '',
    ].join('\n');
    const { samples, skippedLines } = parsePrometheusText(body);
    expect(skippedLines).toBe(0);
    expect(samples.map((s) => [s.name, s.value])).toEqual([
      ['vllm:num_requests_waiting', 3],
      ['vllm:time_to_first_token_seconds_bucket', 0],
      ['vllm:time_to_first_token_seconds_bucket', 17],
      ['vllm:time_to_first_token_seconds_count', 17],
      ['vllm:time_to_first_token_seconds_sum', 2351897.9474117756],
      ['process_open_fds', 42],
    ]);
    expect(samples[0]?.labels).toEqual({ engine: '0', model_name: 'Qwen/Qwen3-8B' });
    expect(samples[2]?.labels).toEqual({ engine: '0', le: '+Inf', model_name: 'Qwen/Qwen3-8B' });
    expect(samples[5]?.labels).toEqual({});
  });

  it('unescapes \\\\, \\" and \\n in label values', () => {
    const s = one(String.raw`m{path="C:\\dir\\",quote="say \"hi\"",nl="line1\nline2"} 1`);
    expect(s?.labels).toEqual({ path: 'C:\\dir\\', quote: 'say "hi"', nl: 'line1\nline2' });
  });

  it('keeps commas, braces, equals signs, # and non-ASCII inside quoted values', () => {
    const s = one('m{a="1,2}",b="x=y",c="# not a comment",d="模型 🚀",e=""} 7');
    expect(s?.labels).toEqual({ a: '1,2}', b: 'x=y', c: '# not a comment', d: '模型 🚀', e: '' });
  });

  it.each([
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
    ['nan', NaN],
    ['1e+06', 1e6],
    ['8.128902e+06', 8128902],
    ['-1.5E-3', -0.0015],
    ['.5', 0.5],
    ['5.', 5],
    ['+3', 3],
    ['-0.0', -0],
    ['18446744073709551615', 18446744073709551615],
  ])('reads the value %s', (token, value) => {
    expect(one(`m ${token}`)?.value).toBe(value);
  });

  it('accepts an optional integer timestamp and ignores it', () => {
    expect(one('m{a="b"} 1 1700000000000')?.value).toBe(1);
    expect(one('m 2 -5')?.value).toBe(2);
  });

  it('accepts the format’s whitespace: tabs, blanks around label tokens, trailing comma, {}, CRLF', () => {
    const body = [
      '  m1\t{ a = "1" , b="2", }\t3  ',
      'm2{} 4',
      'm3{a="1"}5',
      '\t# indented comment',
      'm4 6',
      '   ',
      'm5 7',
    ].join('\r\n');
    const { samples, skippedLines } = parsePrometheusText(body);
    expect(skippedLines).toBe(0);
    expect(samples).toEqual([
      { name: 'm1', labels: { a: '1', b: '2' }, value: 3 },
      { name: 'm2', labels: {}, value: 4 },
      { name: 'm3', labels: { a: '1' }, value: 5 },
      { name: 'm4', labels: {}, value: 6 },
      { name: 'm5', labels: {}, value: 7 },
    ]);
  });

  it('reads a body without a final newline, and an empty body', () => {
    expect(parsePrometheusText('a 1\nb 2').samples.map((s) => s.name)).toEqual(['a', 'b']);
    expect(parsePrometheusText('')).toEqual({ samples: [], skippedLines: 0 });
  });

  it('keeps __proto__ and constructor as ordinary label names', () => {
    const s = one('m{__proto__="x",constructor="y"} 1');
    expect(Object.keys(s?.labels ?? {})).toEqual(['__proto__', 'constructor']);
    expect(s?.labels['__proto__']).toBe('x');
  });

  it.each([
    '1abc 1',
    'name',
    'name ',
    'name{',
    'name{a="1"',
    'name{a="1"} ',
    'name{a=1} 1',
    'name{a="1} 1',
    String.raw`name{a="\t"} 1`,
    String.raw`name{a="trailing\"} 1`,
    'name{a="1",a="2"} 1',
    'name{,} 1',
    'name{a="1",,b="2"} 1',
    'name{a="1" b="2"} 1',
    'name{a:b="x"} 1',
    'name{1a="x"} 1',
    'name{a="1"}{b="2"} 1',
    '{a="1"} 1',
    'name-x 1',
    'name.x 1',
    'name 0x10',
    'name abc',
    'name Infinityy',
    'name ""',
    'name 1 1.5',
    'name 1 abc',
    'name 1 2 3',
    'name 1e',
    'name 1..2',
  ])('skips and counts the malformed line %j', (line) => {
    expect(parsePrometheusText(line)).toEqual({ samples: [], skippedLines: 1 });
  });

  it('keeps reading after malformed lines', () => {
    const { samples, skippedLines } = parsePrometheusText('a 1\n%%% garbage\nb{x="unterminated} 2\nc 3\n');
    expect(samples.map((s) => s.name)).toEqual(['a', 'c']);
    expect(skippedLines).toBe(2);
  });

  it('with `only`, drops other names before their labels are read (not counted as skipped)', () => {
    const body = ['keep{a="1"} 1', 'other{a="1" broken 2', 'other_bucket{le="1"} 3', 'keep 4', '9bad 5'].join(
      '\n',
    );
    const { samples, skippedLines } = parsePrometheusText(body, { only: new Set(['keep']) });
    expect(samples.map((s) => s.value)).toEqual([1, 4]);
    // Only the line whose name cannot even be read still counts.
    expect(skippedLines).toBe(1);
  });

  it('reads a large histogram-heavy body and finds the three gauges among thousands of lines', () => {
    const lines: string[] = [];
    for (let h = 0; h < 40; h++) {
      lines.push(`# HELP vllm:hist_${h}_seconds A histogram.`, `# TYPE vllm:hist_${h}_seconds histogram`);
      for (let b = 0; b < 100; b++) {
        lines.push(`vllm:hist_${h}_seconds_bucket{engine="0",le="${b * 0.25}",model_name="m"} ${b * 3}`);
      }
    }
    lines.push('vllm:num_requests_waiting{engine="0",model_name="m"} 2.0');
    lines.push('vllm:num_requests_running{engine="0",model_name="m"} 9.0');
    lines.push('vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25');
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThan(200_000);
    const only = new Set([
      'vllm:num_requests_waiting',
      'vllm:num_requests_running',
      'vllm:kv_cache_usage_perc',
    ]);
    const filtered = parsePrometheusText(body, { only });
    expect(filtered.samples.map((s) => s.value)).toEqual([2, 9, 0.25]);
    expect(parsePrometheusText(body).samples).toHaveLength(4003);
  });
});

// --- properties -------------------------------------------------------------------------------------

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const labelValue = fc.string({ unit: 'binary', maxLength: 20 });
const sampleValue = fc.oneof(
  fc.double({ noDefaultInfinity: false }).map((v) => (Object.is(v, -0) ? 0 : v)),
  fc.integer(),
  fc.constantFrom(NaN, Infinity, -Infinity),
);
const sampleArb = fc.record({
  name: metricName,
  labels: fc.uniqueArray(fc.tuple(labelName, labelValue), { maxLength: 4, selector: ([k]) => k }),
  value: sampleValue,
  timestamp: fc.option(fc.integer(), { nil: undefined }),
});

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const escapeLabelValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

describe('parsePrometheusText properties', () => {
  it('round-trips any samples written with the format’s escaping', () => {
    fc.assert(
      fc.property(fc.array(sampleArb, { maxLength: 8 }), fc.boolean(), (written, withHelp) => {
        const lines = written.flatMap((s) => {
          const labels = s.labels.length
            ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`
            : '';
          const ts = s.timestamp === undefined ? '' : ` ${s.timestamp}`;
          const line = `${s.name}${labels} ${formatValue(s.value)}${ts}`;
          return withHelp ? [`# HELP ${s.name} some \\n help`, `# TYPE ${s.name} gauge`, line] : [line];
        });
        const { samples, skippedLines } = parsePrometheusText(lines.join('\n'));
        expect(skippedLines).toBe(0);
        expect(samples).toEqual(
          written.map((s) => ({ name: s.name, labels: Object.fromEntries(s.labels), value: s.value })),
        );
      }),
    );
  });

  it('never throws, and keeps or skips at most one sample per line', () => {
    const chunk = fc.constantFrom(
      'm',
      '{',
      '}',
      '"',
      '\\',
      ',',
      '=',
      ' ',
      '\n',
      '#',
      '1',
      'a',
      ':',
      'NaN',
      '+Inf',
    );
    const text = fc.oneof(
      fc.string(),
      fc.array(chunk, { maxLength: 60 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (t) => {
        const { samples, skippedLines } = parsePrometheusText(t);
        expect(samples.length + skippedLines).toBeLessThanOrEqual(t.split('\n').length);
      }),
    );
  });

  it('`only` gives the same samples as filtering the full parse', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a 1', 'b{x="1"} 2', 'a{y="z"} 3', 'c 4', 'b 5', 'a{', 'b 1 2 3', '# a'), {
          maxLength: 30,
        }),
        fc.subarray(['a', 'b', 'c']),
        (lines, names) => {
          const text = lines.join('\n');
          const only = new Set(names);
          const filtered = parsePrometheusText(text, { only });
          const full = parsePrometheusText(text);
          expect(filtered.samples).toEqual(full.samples.filter((s) => only.has(s.name)));
          expect(filtered.skippedLines).toBeLessThanOrEqual(full.skippedLines);
        },
      ),
    );
  });
});
