// Reading a request body and writing JSON, OpenAI-shaped errors and server-sent events on node:http.
// No routing and no simulator state.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildError, type ErrorType } from './openai-shapes.ts';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;

export function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  type: ErrorType,
  code: string,
  message: string,
  param: string | null = null,
): void {
  sendJson(res, status, buildError(message, type, code, param));
}

export function writeEvent(res: ServerResponse, body: object | string): void {
  res.write(`data: ${typeof body === 'string' ? body : JSON.stringify(body)}\n\n`);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
