// Markdown tables laid out the way Prettier lays them out (padded cells, aligned delimiter row), so the
// generated docs/policy-lab.md passes `prettier --check` byte for byte.

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  for (const row of rows) {
    if (row.length !== columns.length) {
      throw new TypeError(`renderTable: row has ${row.length} cells, expected ${columns.length}`);
    }
  }
  const cells = [columns.map((c) => escapeCell(c.header)), ...rows.map((r) => r.map(escapeCell))];
  const widths = columns.map((_, i) => Math.max(3, ...cells.map((r) => width(r[i] ?? ''))));
  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat((widths[i] ?? 0) - width(text));
    return columns[i]?.align === 'right' ? fill + text : text + fill;
  };
  const line = (r: readonly string[]): string => `| ${r.map(pad).join(' | ')} |`;
  const delimiter = columns.map((c, i) => {
    const w = widths[i] ?? 3;
    return c.align === 'right' ? '-'.repeat(w - 1) + ':' : '-'.repeat(w);
  });
  const [header, ...body] = cells;
  return [line(header ?? []), `| ${delimiter.join(' | ')} |`, ...body.map(line)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Display width in code points; the report uses no wide (CJK) or combining characters. */
function width(text: string): number {
  return [...text].length;
}
