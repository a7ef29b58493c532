// Pool configuration: which setups are accepted and how a bad one is named (parseConfig is pure).

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/worker/config.ts';

const backend = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  url: `http://${name}.test`,
  maxConcurrency: 1,
  ...extra,
});

function configWith(backends: unknown[], extra: Record<string, unknown> = {}) {
  return parseConfig({ BACKENDS: JSON.stringify(backends), AUTH: 'off', ...extra });
}

function messageOf(result: ReturnType<typeof parseConfig>): string {
  if (result.ok) throw new Error('expected an invalid configuration');
  return result.message;
}

describe('pools in BACKENDS', () => {
  it('puts backends with no pool or models in one default pool that serves any model', () => {
    const result = configWith([backend('a'), backend('b')]);
    if (!result.ok) throw new Error(result.message);
    const pools = result.config.pools;
    expect(pools.pools.map((p) => [p.name, p.models, p.backends.map((b) => b.name)])).toEqual([
      ['default', null, ['a', 'b']],
    ]);
    expect(pools.poolFor('anything')?.name).toBe('default');
  });

  it('routes each model to the one pool that lists it, and others to the catch-all pool', () => {
    const result = configWith([
      backend('l1', { pool: 'big', models: ['llama-70b'] }),
      backend('l2', { pool: 'big', models: ['llama-70b'] }),
      backend('q1', { pool: 'small', models: ['qwen-7b', 'qwen-7b-instruct'] }),
      backend('any'),
    ]);
    if (!result.ok) throw new Error(result.message);
    const { pools } = result.config;
    expect(pools.poolFor('llama-70b')?.backends.map((b) => b.name)).toEqual(['l1', 'l2']);
    expect(pools.poolFor('qwen-7b-instruct')?.name).toBe('small');
    expect(pools.poolFor('mistral')?.name).toBe('default');
    expect(pools.listedModels()).toEqual(['llama-70b', 'qwen-7b', 'qwen-7b-instruct']);
  });

  it('has no pool for an unlisted model when every pool lists its models', () => {
    const result = configWith([backend('l1', { pool: 'big', models: ['llama-70b'] })]);
    if (!result.ok) throw new Error(result.message);
    expect(result.config.pools.poolFor('qwen-7b')).toBeNull();
  });

  it('rejects a model served by two pools, naming the field', () => {
    const message = messageOf(
      configWith([
        backend('l1', { pool: 'big', models: ['llama-70b'] }),
        backend('l2', { pool: 'other', models: ['llama-70b'] }),
      ]),
    );
    expect(message).toContain('BACKENDS.1.models');
    expect(message).toContain('llama-70b');
    expect(message).toContain('big');
  });

  it('rejects a pool whose backends list different models, naming the field', () => {
    const message = messageOf(
      configWith([
        backend('l1', { pool: 'big', models: ['llama-70b'] }),
        backend('l2', { pool: 'big', models: ['qwen-7b'] }),
      ]),
    );
    expect(message).toContain('BACKENDS.1.models');
    expect(message).toContain('pool "big"');
  });

  it('rejects two pools that would both serve every model', () => {
    const message = messageOf(configWith([backend('a', { pool: 'x' }), backend('b', { pool: 'y' })]));
    expect(message).toContain('BACKENDS.1.models');
  });

  it('rejects an empty model list and a bad pool name', () => {
    expect(messageOf(configWith([backend('a', { models: [] })]))).toContain('BACKENDS.0.models');
    expect(messageOf(configWith([backend('a', { pool: 'no spaces' })]))).toContain('BACKENDS.0.pool');
  });

  it('takes a location hint per pool, and names a bad one', () => {
    const ok = configWith([backend('a', { pool: 'gpu' })], { POOL_LOCATION_HINTS: '{"gpu":"enam"}' });
    if (!ok.ok) throw new Error(ok.message);
    expect(ok.config.poolLocationHints).toEqual({ gpu: 'enam' });
    expect(
      messageOf(configWith([backend('a', { pool: 'gpu' })], { POOL_LOCATION_HINTS: '{"gpu":"mars"}' })),
    ).toContain('POOL_LOCATION_HINTS.gpu');
    expect(
      messageOf(configWith([backend('a', { pool: 'gpu' })], { POOL_LOCATION_HINTS: '{"cpu":"enam"}' })),
    ).toContain('POOL_LOCATION_HINTS.cpu');
  });
});
