// A small regex-based reader of Prometheus text for the simulator tests: HELP/TYPE per family, and samples
// with their labels. Throws on a line it cannot read, so a malformed exposition fails the test that reads it.

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  help?: string;
  type?: string;
}

export interface Exposition {
  readonly families: ReadonlyMap<string, PromFamily>;
  readonly samples: readonly PromSample[];
  /** The value of the one sample named `name` whose labels include `labels`; undefined if there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const COMMENT = new RegExp(`^# (HELP|TYPE) (${METRIC_NAME}) (.*)$`);
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

function readLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (LABEL.lastIndex < text.length && (match = LABEL.exec(text)) !== null) {
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  }
  if (LABEL.lastIndex !== text.length) throw new SyntaxError(`unreadable labels in ${JSON.stringify(line)}`);
  return labels;
}

function readValue(text: string, line: string): number {
  const special: Record<string, number> = { '+Inf': Infinity, '-Inf': -Infinity, NaN: Number.NaN };
  const value = special[text] ?? Number(text);
  if (Number.isNaN(value) && text !== 'NaN')
    throw new SyntaxError(`unreadable value in ${JSON.stringify(line)}`);
  return value;
}

export function readExposition(text: string): Exposition {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, 'HELP' | 'TYPE', string, string];
      const family = families.get(name) ?? {};
      if (kind === 'HELP') family.help = rest;
      else family.type = rest;
      families.set(name, family);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new SyntaxError(`unreadable line ${JSON.stringify(line)}`);
    samples.push({
      name: sample[1]!,
      labels: sample[2] === undefined ? {} : readLabels(sample[2], line),
      value: readValue(sample[3]!, line),
    });
  }
  return {
    families,
    samples,
    value(name, labels = {}) {
      const found = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([key, v]) => s.labels[key] === v),
      );
      if (found.length > 1)
        throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}

/** GET `${url}/metrics` and read it. */
export async function scrapeMetrics(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return readExposition(await res.text());
}
