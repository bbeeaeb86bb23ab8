import type { components } from "./schema";

type Problem = components["schemas"]["Problem"];

/**
 * What the portal shows of a failed call. The services answer errors as RFC 9457 problem+json (the OpenAPI's
 * Problem) with an error_id, `errors: [{field, message}]` for invalid fields, or a single `field` extension on a
 * conflict. The body is still read defensively: a proxy in between (a 413 or 502) may answer with anything.
 */
export interface ProblemView {
  status: number;
  detail: string;
  errorId: string | null;
  /** Messages by form field name ("display_name", "new_password", ...). */
  fields: Record<string, string>;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** "body.display_name" -> "display_name"; "body.attachments.0" -> "attachments". */
export function fieldName(path: string): string {
  const parts = path.split(".").filter((p) => !["body", "query", "path", "header"].includes(p));
  const named = parts.filter((p) => !/^\d+$/.test(p));
  return named[0] ?? path;
}

/** Words for an answer without a problem body (a proxy's 413 or 502, a dropped connection). */
function fallbackDetail(status: number): string {
  switch (status) {
    case 0:
      return "The portal could not reach the server. Check your connection and try again.";
    case 413:
      return "This is too large for the server to accept.";
    case 415:
      return "This type of file or content is not accepted.";
    case 429:
      return "Too many attempts in a short time. Wait a moment and try again.";
    case 502:
    case 503:
    case 504:
      return "The service is unavailable for a moment. Try again shortly.";
    default:
      return `The request failed (${status}).`;
  }
}

export function toProblem(body: unknown, response?: Response): ProblemView {
  const status = response?.status ?? 0;
  const record: Partial<Record<keyof Problem | "field", unknown>> =
    typeof body === "object" && body !== null ? body : {};
  const fields: Record<string, string> = {};
  const errors = Array.isArray(record.errors) ? (record.errors as unknown[]) : [];
  for (const item of errors) {
    if (typeof item !== "object" || item === null) continue;
    const e = item as Record<string, unknown>;
    const field = str(e.field) ?? (Array.isArray(e.loc) ? e.loc.join(".") : null);
    const message = str(e.message) ?? str(e.msg);
    if (field && message) fields[fieldName(field)] ??= message;
  }
  const detail = str(record.detail) ?? str(record.title) ?? fallbackDetail(status);
  const single = str(record.field);
  if (single && !fields[fieldName(single)]) fields[fieldName(single)] = detail;
  const errorId = str(record.error_id) ?? response?.headers.get("X-Request-ID") ?? null;
  return { status, detail, errorId, fields };
}

/** The thrown form of a problem, for TanStack Query's error channel. */
export class ProblemError extends Error {
  readonly problem: ProblemView;
  constructor(problem: ProblemView) {
    super(problem.detail);
    this.problem = problem;
  }
}

export function problemOf(error: unknown): ProblemView {
  if (error instanceof ProblemError) return error.problem;
  return toProblem(null);
}

/** Unwraps an openapi-fetch result: the data, or a ProblemError carrying what the server said. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ProblemError(toProblem(result.error, result.response));
  }
  return result.data as T;
}
