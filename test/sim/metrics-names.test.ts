// /metrics names per engine: vLLM's by default, the legacy KV alias, SGLang's with --engine sglang, and a
// well-formed exposition (HELP and TYPE for every family, prometheus_client number format) in each.

import { describe, expect, it } from 'vitest';
import type { SimEngine } from '../../sim/options.ts';
import { formatSampleValue } from '../../sim/prometheus-text.ts';
import { readExposition, scrapeMetrics } from './prometheus-reader.ts';
import { chatRequest, post, useSims } from './sim-fixture.ts';

const startSim = useSims();

const VLLM = [
  ['vllm:num_requests_running', 'gauge'],
  ['vllm:num_requests_waiting', 'gauge'],
  ['vllm:kv_cache_usage_perc', 'gauge'],
  ['vllm:prompt_tokens_total', 'counter'],
  ['vllm:generation_tokens_total', 'counter'],
  ['sluice_sim_requests_total', 'counter'],
] as const;

const SGLANG = [
  ['sglang:num_running_reqs', 'gauge'],
  ['sglang:num_queue_reqs', 'gauge'],
  ['sglang:token_usage', 'gauge'],
  ['sglang:num_used_tokens', 'gauge'],
  ['sglang:prompt_tokens_total', 'counter'],
  ['sglang:generation_tokens_total', 'counter'],
  ['sluice_sim_requests_total', 'counter'],
] as const;

/** The set of family names, from both comments and samples. */
function namesIn(text: string): string[] {
  const metrics = readExposition(text);
  return [...new Set([...metrics.families.keys(), ...metrics.samples.map((s) => s.name)])].sort();
}

describe('vLLM metric names (default)', () => {
  it('exposes each family with HELP, TYPE and a model_name label, and nothing else', async () => {
    const sim = await startSim({ models: ['served', 'other'] });
    await (await post(`${sim.url}/v1/chat/completions`, chatRequest(3, 2))).arrayBuffer();
    const res = await fetch(`${sim.url}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const metrics = readExposition(text);

    expect(namesIn(text)).toEqual(VLLM.map(([name]) => name).sort());
    for (const [name, type] of VLLM) {
      expect(metrics.families.get(name)).toEqual({ help: expect.any(String), type });
    }
    expect(metrics.samples.every((s) => s.labels['model_name'] === 'served')).toBe(true);
    expect(text).toContain('vllm:prompt_tokens_total{model_name="served"} 3.0\n');
    expect(text).toContain('sluice_sim_requests_total{model_name="served",outcome="completed"} 1.0\n');
    expect(metrics.value('vllm:generation_tokens_total')).toBe(2);
    expect(metrics.value('sluice_sim_requests_total', { outcome: 'rejected' })).toBe(0);
  });

  it('with --vllm-legacy-metrics reports KV usage as vllm:gpu_cache_usage_perc instead', async () => {
    const sim = await startSim({ vllmLegacyMetrics: true });
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    const expected = VLLM.map(([name]) =>
      name === 'vllm:kv_cache_usage_perc' ? 'vllm:gpu_cache_usage_perc' : name,
    );
    expect(namesIn(text)).toEqual(expected.sort());
    expect(readExposition(text).families.get('vllm:gpu_cache_usage_perc')).toEqual({
      help: 'GPU KV-cache usage. 1 means 100 percent usage.',
      type: 'gauge',
    });
  });
});

describe('SGLang metric names (--engine sglang)', () => {
  it("exposes SGLang's families with HELP, TYPE and a model_name label, and no vLLM names", async () => {
    const sim = await startSim({ engine: 'sglang', models: ['served'] });
    await (await post(`${sim.url}/v1/chat/completions`, chatRequest(3, 2))).arrayBuffer();
    const text = await (await fetch(`${sim.url}/metrics`)).text();
    const metrics = readExposition(text);

    expect(namesIn(text)).toEqual(SGLANG.map(([name]) => name).sort());
    expect(text).not.toContain('vllm:');
    for (const [name, type] of SGLANG) {
      expect(metrics.families.get(name)).toEqual({ help: expect.any(String), type });
    }
    expect(metrics.samples.every((s) => s.labels['model_name'] === 'served')).toBe(true);
    expect(metrics.value('sglang:prompt_tokens_total')).toBe(3);
    expect(metrics.value('sglang:generation_tokens_total')).toBe(2);
    expect(metrics.value('sluice_sim_requests_total', { outcome: 'completed' })).toBe(1);
  });

  it('never shows SGLang names under vLLM', async () => {
    const metrics = await scrapeMetrics((await startSim()).url);
    expect(metrics.samples.some((s) => s.name.startsWith('sglang:'))).toBe(false);
  });
});

describe('exposition format', () => {
  it.each<SimEngine>(['vllm', 'sglang'])(
    '%s: every sample follows the HELP and TYPE of its family',
    async (engine) => {
      const sim = await startSim({ engine, models: ['a "quoted" \\ model'] });
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const lines = text.trimEnd().split('\n');
      const seen = new Set<string>();
      for (const [i, line] of lines.entries()) {
        const help = /^# HELP (\S+) /.exec(line);
        if (help !== null) {
          expect(lines[i + 1]?.split(' ').slice(0, 3)).toEqual(['#', 'TYPE', help[1]]);
          seen.add(help[1]!);
        } else if (!line.startsWith('#')) {
          expect(seen).toContain(line.slice(0, line.search(/[{ ]/)));
        }
      }
      expect(readExposition(text).samples[0]?.labels['model_name']).toBe('a "quoted" \\ model');
    },
  );

  it('prints numbers as prometheus_client does', () => {
    expect([0, 3, 0.25, 1 / 3, 123456, 8_128_902, 10_000_000].map(formatSampleValue)).toEqual([
      '0.0',
      '3.0',
      '0.25',
      '0.3333333333333333',
      '123456.0',
      '8.128902e+06',
      '1e+07',
    ]);
  });
});
