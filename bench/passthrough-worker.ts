// The baseline for the router benchmark: a bare Worker that forwards every request to one backend and
// streams the answer back, with no scheduling. Whatever Sluice adds on top of this is its own cost.

interface PassthroughEnv {
  readonly BACKEND_URL: string;
}

export default {
  async fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const url = new URL(request.url);
    const upstream = await fetch(`${env.BACKEND_URL}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
};
