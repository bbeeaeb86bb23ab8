import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Reply = Response | { status?: number; json?: unknown; headers?: Record<string, string> };
type Handler = (call: Call) => Reply | Promise<Reply>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": type, ...headers },
  });
}

export function problem(status: number, detail: string, extra: Record<string, unknown> = {}) {
  return json(
    { type: "about:blank", title: "Problem", status, detail, error_id: "err-123", ...extra },
    status,
  );
}

/**
 * A fake of the gateway at the fetch boundary: handlers by "METHOD /path"; every call is recorded. Unknown routes
 * answer 404 so a test never hangs on a request it did not expect.
 */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const call = {
      method: request.method,
      path: url.pathname,
      search: url.searchParams,
      headers: request.headers,
      body,
    };
    calls.push(call);
    const key = `${request.method} ${url.pathname}`;
    const handler =
      routes[key] ??
      Object.entries(routes).find(([pattern]) =>
        new RegExp(`^${pattern.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(key),
      )?.[1];
    if (!handler) return problem(404, `No fake for ${key}`);
    const reply = await handler(call);
    if (reply instanceof Response) return reply;
    return json(reply.json ?? null, reply.status ?? 200, reply.headers);
  });
  vi.stubGlobal("fetch", fetchMock);
  return {
    calls,
    of: (method: string, path: string) =>
      calls.filter((c) => c.method === method && c.path === path),
  };
}
