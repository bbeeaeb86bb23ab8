/** My Cases' state lives in the URL (?status=&q=&cursor=) so Back and reload restore it. */
export type StatusFilter = "all" | "open" | "closed";

export interface CasesQuery {
  status: StatusFilter;
  q: string;
  cursor: string | null;
}

export function readCasesQuery(params: URLSearchParams): CasesQuery {
  const raw = params.get("status");
  const status: StatusFilter = raw === "open" || raw === "closed" ? raw : "all";
  return { status, q: params.get("q") ?? "", cursor: params.get("cursor") || null };
}

export function writeCasesQuery(query: CasesQuery): URLSearchParams {
  const params = new URLSearchParams();
  params.set("status", query.status);
  if (query.q) params.set("q", query.q);
  if (query.cursor) params.set("cursor", query.cursor);
  return params;
}

/** The cursors of the pages before this one, kept in history state so "Previous" needs no server support. */
export function previousCursors(state: unknown): (string | null)[] {
  if (typeof state !== "object" || state === null) return [];
  const prev = (state as { prev?: unknown }).prev;
  return Array.isArray(prev)
    ? prev.filter((c): c is string | null => c === null || typeof c === "string")
    : [];
}
