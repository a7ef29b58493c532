// An in-memory CliIo: reads the repository's files, captures everything written.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from '../../lab/cli.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface MemoryIo extends CliIo {
  readonly out: string[];
  readonly err: string[];
  readonly files: Map<string, string>;
}

export function memoryIo(): MemoryIo {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  return {
    out,
    err,
    files,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    readFile: (p) => readFileSync(join(REPO_ROOT, p), 'utf8'),
    writeFile: (p, text) => files.set(p, text),
  };
}
