// Parser for the Prometheus text exposition format 0.0.4 (what vLLM and SGLang serve at /metrics).
// Owns sample lines only: comments, HELP and TYPE are skipped; a malformed line is counted, never thrown.
// One pass over the body without splitting it into lines, so a scrape costs no more than its length.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParseResult {
  readonly samples: Sample[];
  /** Lines that are not blank, not comments and not valid samples (see ParseOptions.only). */
  readonly skippedLines: number;
}

export interface ParseOptions {
  /**
   * Keep only samples with these metric names. A line whose name is not listed is dropped right after its
   * name is read, before its labels are parsed or validated, so it is not counted as skipped either. A
   * vLLM body is mostly histogram `_bucket` lines nobody here reads; this makes them nearly free.
   */
  readonly only?: ReadonlySet<string>;
}

// Null prototype: `__proto__` and `constructor` are valid label names and must stay plain own keys.
const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze(
  Object.create(null) as Record<string, string>,
);

const TAB = 9;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const LOWER_N = 110;
const LBRACE = 123;
const RBRACE = 125;

/** Outcome of one line: a sample was kept, or the line had nothing to keep, or it was malformed. */
const KEPT = 0;
const NOTHING = 1;
const MALFORMED = 2;
type LineOutcome = typeof KEPT | typeof NOTHING | typeof MALFORMED;

// Go's strconv.ParseFloat (what Prometheus uses) in decimal form. Unambiguous, so it never backtracks
// more than linearly on a long token.
const DECIMAL_FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/**
 * Every sample in `text`, in order. Scrape with `Accept: text/plain; version=0.0.4`: this reads that
 * format only, so an OpenMetrics exemplar (`# {trace_id="…"} …` after a value) makes its line malformed.
 */
export function parsePrometheusText(text: string, options: ParseOptions = {}): ParseResult {
  const samples: Sample[] = [];
  let skippedLines = 0;
  const only = options.only;
  const length = text.length;
  let pos = 0;
  while (pos < length) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = length;
    // The format says LF; a CRLF body (a proxy, a hand-written file) is read the same.
    const end = eol > pos && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
    if (parseLine(text, pos, end, only, samples) === MALFORMED) skippedLines++;
    pos = eol + 1;
  }
  return { samples, skippedLines };
}

/** Parses text[start, end) and appends its sample, if any, to `out`. */
function parseLine(
  text: string,
  start: number,
  end: number,
  only: ReadonlySet<string> | undefined,
  out: Sample[],
): LineOutcome {
  let i = skipBlanks(text, start, end);
  if (i === end) return NOTHING;
  const first = text.charCodeAt(i);
  if (first === HASH) return NOTHING;
  if (!isNameStart(first)) return MALFORMED;
  const nameStart = i++;
  while (i < end && isNameChar(text.charCodeAt(i))) i++;
  const name = text.slice(nameStart, i);
  if (only !== undefined && !only.has(name)) return NOTHING;
  if (i === end) return MALFORMED;
  const afterName = text.charCodeAt(i);
  if (afterName !== LBRACE && !isBlank(afterName)) return MALFORMED;

  i = skipBlanks(text, i, end);
  let labels = EMPTY_LABELS;
  if (i < end && text.charCodeAt(i) === LBRACE) {
    const parsed = parseLabels(text, i + 1, end);
    if (parsed === null) return MALFORMED;
    labels = parsed.labels;
    i = parsed.next;
  }

  i = skipBlanks(text, i, end);
  if (i === end) return MALFORMED;
  const valueStart = i;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  const value = parseValue(text.slice(valueStart, i));
  if (value === null) return MALFORMED;

  // An optional timestamp (integer milliseconds); nothing here uses it, but it must be well formed.
  i = skipBlanks(text, i, end);
  if (i < end) {
    const tsStart = i;
    while (i < end && !isBlank(text.charCodeAt(i))) i++;
    if (!INTEGER.test(text.slice(tsStart, i))) return MALFORMED;
    if (skipBlanks(text, i, end) !== end) return MALFORMED;
  }

  out.push({ name, labels, value });
  return KEPT;
}

/**
 * Labels from just after `{` through `}`: `name="value"` pairs separated by commas, an optional trailing
 * comma, blanks allowed around every token. Values may hold any character; `\\`, `\"` and `\n` are the
 * only escapes the format defines, so any other escape (and a duplicate name) makes the line malformed,
 * as it does for Prometheus's own parser.
 */
function parseLabels(
  text: string,
  start: number,
  end: number,
): { labels: Readonly<Record<string, string>>; next: number } | null {
  const labels = Object.create(null) as Record<string, string>;
  let count = 0;
  let i = start;
  for (;;) {
    i = skipBlanks(text, i, end);
    if (i === end) return null;
    if (text.charCodeAt(i) === RBRACE) return { labels: count === 0 ? EMPTY_LABELS : labels, next: i + 1 };
    if (!isLabelStart(text.charCodeAt(i))) return null;
    const nameStart = i++;
    while (i < end && isLabelChar(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i);

    i = skipBlanks(text, i, end);
    if (i === end || text.charCodeAt(i) !== EQUALS) return null;
    i = skipBlanks(text, i + 1, end);
    if (i === end || text.charCodeAt(i) !== QUOTE) return null;
    i++;

    let value = '';
    let chunkStart = i;
    for (;;) {
      if (i === end) return null;
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      if (i + 1 === end) return null;
      const escaped = text.charCodeAt(i + 1);
      const replacement =
        escaped === BACKSLASH ? '\\' : escaped === QUOTE ? '"' : escaped === LOWER_N ? '\n' : null;
      if (replacement === null) return null;
      value += text.slice(chunkStart, i) + replacement;
      i += 2;
      chunkStart = i;
    }
    value += text.slice(chunkStart, i);
    i++;

    if (Object.hasOwn(labels, name)) return null;
    labels[name] = value;
    count++;

    i = skipBlanks(text, i, end);
    if (i === end) return null;
    const sep = text.charCodeAt(i);
    if (sep === COMMA) {
      i++;
      continue;
    }
    if (sep !== RBRACE) return null;
    return { labels, next: i + 1 };
  }
}

/** A float as Go's ParseFloat reads it in decimal form, plus NaN and ±Inf in any case; else null. */
function parseValue(token: string): number | null {
  if (DECIMAL_FLOAT.test(token)) return Number(token);
  switch (token.toLowerCase()) {
    case 'nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return null;
  }
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Label names: [a-zA-Z_][a-zA-Z0-9_]*. */
function isLabelStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isLabelChar(c: number): boolean {
  return isLabelStart(c) || (c >= 48 && c <= 57);
}

/** Metric names also allow `:` (recording rules; vLLM and SGLang use it as their namespace separator). */
function isNameStart(c: number): boolean {
  return isLabelStart(c) || c === 58;
}

function isNameChar(c: number): boolean {
  return isLabelChar(c) || c === 58;
}
