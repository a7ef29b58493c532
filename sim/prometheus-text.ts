// Prometheus text exposition (format 0.0.4): metric families with # HELP and # TYPE lines, labels, and
// sample values printed the way Python's prometheus_client prints them, which vLLM and SGLang both use.

export type MetricType = 'gauge' | 'counter';

export interface Sample {
  /** Printed in insertion order. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  /** The full sample name; a counter's ends in `_total`, as in prometheus_client's text output. */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly Sample[];
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * A float as prometheus_client's `floatToGoString` writes it: `3.0`, `0.25`, and exponents from 1e7 up
 * (`8.128902e+06` is 8128902), so a scraper tested here also reads a real engine's numbers.
 */
export function formatSampleValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  const text = Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
  const dot = text.indexOf('.');
  if (value <= 0 || dot <= 6) return text;
  const mantissa = `${text[0]}.${text.slice(1, dot)}${text.slice(dot + 1)}`.replace(/[0.]+$/, '');
  return `${mantissa}e+0${dot - 1}`;
}

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const { name, type, help, samples } of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { labels, value } of samples) {
      const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`);
      const labelText = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
      lines.push(`${name}${labelText} ${formatSampleValue(value)}`);
    }
  }
  return lines.join('\n') + '\n';
}
