// Prints the core's structured records as one JSON line each, with the console method of their level,
// so Workers Logs and Logpush index them by level and field. Nothing here decides what to log.

import { shouldLog, type LogLevel } from '../core/index.ts';

export function logRecord(threshold: LogLevel, record: { readonly level: LogLevel }): void {
  if (!shouldLog(record.level, threshold)) return;
  const line = JSON.stringify(record);
  if (record.level === 'error') console.error(line);
  else if (record.level === 'warn') console.warn(line);
  // eslint-disable-next-line no-console -- this is the log sink: info and debug records go to console.log
  else console.log(line);
}
