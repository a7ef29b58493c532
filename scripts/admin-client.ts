// The router's admin API from Node: one call, its JSON answer, or an Error that names the method, path,
// status and the router's own message. Shared by `npm run keys` and the demo's key setup, so both speak
// to /admin the same way.

export async function callAdmin(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new Error(`cannot reach the router at ${url} (${String(err)}); is it running? (--url)`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: reported as text below
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } })?.error?.message ?? text;
    const hint = res.status === 401 && !token ? ' (set SLUICE_ADMIN_TOKEN)' : '';
    throw new Error(`${method} ${path} → ${res.status}: ${message}${hint}`);
  }
  return parsed;
}
