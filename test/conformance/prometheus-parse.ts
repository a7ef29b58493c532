// Parses /metrics output with a real parser (parse-prometheus-text-format) and checks that nothing was
// skipped: the parser drops lines it cannot read, so every sample line must be accounted for. The parser
// folds every series of a histogram into one (it reads unlabelled histograms only), so each histogram
// series is parsed on its own, its labels other than `le` taken off first.

import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';

type Labels = Readonly<Record<string, string>>;

export interface Histogram {
  readonly labels: Labels;
  /** Cumulative counts by `le`, as printed. */
  readonly buckets: Readonly<Record<string, number>>;
  readonly sum: number;
  readonly count: number;
}

export interface Exposition {
  readonly families: ReadonlyMap<string, ParsedFamily>;
  /** The value of the one sample of `name` with exactly these labels, or undefined. */
  value(name: string, labels?: Labels): number | undefined;
  /** Sum over every sample of `name` whose labels include `match`. */
  sum(name: string, match?: Labels): number;
  histograms(name: string): readonly Histogram[];
}

const SERIES = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;

export function parseExposition(text: string): Exposition {
  const families = parsePrometheusTextFormat(text);
  const byName = new Map(families.map((f) => [f.name, f]));
  const sampleLines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const histogramNames = families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name);
  const histogramOf = (line: string) =>
    histogramNames.find((h) =>
      [`${h}_bucket`, `${h}_sum`, `${h}_count`].includes(SERIES.exec(line)?.[1] ?? ''),
    );

  let parsed = 0;
  for (const f of families) if (f.type !== 'HISTOGRAM') parsed += f.metrics.length;
  const plain = sampleLines.filter((l) => histogramOf(l) === undefined);
  if (parsed !== plain.length) {
    throw new Error(`the parser read ${parsed} of ${plain.length} sample lines:\n${text}`);
  }

  const histograms = new Map<string, Histogram[]>();
  for (const name of histogramNames) {
    const groups = new Map<string, { labels: Labels; lines: string[] }>();
    for (const line of sampleLines.filter((l) => histogramOf(l) === name)) {
      const [, series = '', labelText = '', value = ''] = SERIES.exec(line) ?? [];
      const labels = labelsOf(labelText);
      const { le, ...rest } = labels;
      const key = JSON.stringify(rest);
      const group = groups.get(key) ?? { labels: rest, lines: [] };
      group.lines.push(le === undefined ? `${series} ${value}` : `${series}{le="${le}"} ${value}`);
      groups.set(key, group);
    }
    const out: Histogram[] = [];
    for (const { labels, lines } of groups.values()) {
      const [one] = parsePrometheusTextFormat(`# TYPE ${name} histogram\n${lines.join('\n')}\n`);
      const m = one?.metrics[0];
      if (!m?.buckets || m.sum === undefined || m.count === undefined || one?.metrics.length !== 1) {
        throw new Error(`histogram ${name}${JSON.stringify(labels)} did not parse:\n${lines.join('\n')}`);
      }
      if (Object.keys(m.buckets).length + 2 !== lines.length) {
        throw new Error(`histogram ${name}${JSON.stringify(labels)} has unread lines`);
      }
      const buckets = Object.fromEntries(Object.entries(m.buckets).map(([le, v]) => [le, Number(v)]));
      out.push({ labels, buckets, sum: Number(m.sum), count: Number(m.count) });
    }
    histograms.set(name, out);
  }

  const matches = (labels: Labels | undefined, want: Labels) =>
    Object.entries(want).every(([k, v]) => labels?.[k] === v);
  return {
    families: byName,
    value(name, labels = {}) {
      const m = byName
        .get(name)
        ?.metrics.find(
          (s) =>
            matches(s.labels, labels) && Object.keys(s.labels ?? {}).length === Object.keys(labels).length,
        );
      return m?.value === undefined ? undefined : Number(m.value);
    },
    sum(name, match = {}) {
      let total = 0;
      for (const s of byName.get(name)?.metrics ?? [])
        if (matches(s.labels, match)) total += Number(s.value ?? 0);
      return total;
    },
    histograms: (name) => histograms.get(name) ?? [],
  };
}

/** Label pairs of `{a="x",b="y"}`, with the format's escapes undone. */
function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}
