import { api, type Schemas } from "../api/client";
import { ProblemError, toProblem, unwrap } from "../api/problem";
import { session } from "../session/session";
import type { paths } from "../api/schema";

/*
 * The agent workspace's calls in one place. The cases routes go through the generated client; the identity admin
 * routes are typed by hand against the agreed shapes (coord AGENT-API.md) until identity's OpenAPI has them.
 */

export type WaitingOn = "support" | "customer";
export type Role = "customer" | "agent" | "admin";
export type Person = Schemas["PersonView"];
export type SlaView = Schemas["SlaView"];
export type QueueItem = Schemas["QueueItemView"];
export type AgentCase = Schemas["CaseView"];
export type QueueApiQuery = NonNullable<paths["/api/cases/queue"]["get"]["parameters"]["query"]>;

export interface UserAdminView {
  id: string;
  email: string;
  display_name: string;
  role: string;
  email_verified: boolean;
  disabled: boolean;
  created_at: string;
}

export interface UsersPage {
  items: UserAdminView[];
  next_cursor: string | null;
}

async function call<T>(
  method: "GET" | "POST",
  path: string,
  options: { query?: Record<string, string>; body?: unknown } = {},
): Promise<T> {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const request = new Request(url, {
    method,
    headers: options.body === undefined ? {} : { "Content-Type": "application/json" },
    body: options.body === undefined ? null : JSON.stringify(options.body),
  });
  let response: Response;
  try {
    response = await session.fetch(request);
  } catch {
    throw new ProblemError(toProblem(null));
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ProblemError(toProblem(body, response));
  return body as T;
}

const userPath = (userId: string) => `/api/identity/users/${encodeURIComponent(userId)}`;

export const agentApi = {
  queue: async (query: QueueApiQuery) =>
    unwrap(await api.GET("/api/cases/queue", { params: { query } })),
  agents: async () => unwrap(await api.GET("/api/cases/agents")),
  assign: async (caseId: string, assigneeId: string | null) =>
    unwrap(
      await api.POST("/api/cases/{case_id}/assignment", {
        params: { path: { case_id: caseId } },
        body: { assignee_id: assigneeId },
      }),
    ),
  setWaiting: async (caseId: string, waitingOn: WaitingOn) =>
    unwrap(
      await api.POST("/api/cases/{case_id}/waiting", {
        params: { path: { case_id: caseId } },
        body: { waiting_on: waitingOn },
      }),
    ),
  changeSeverity: async (caseId: string, body: Schemas["SeverityUpdate"]) =>
    unwrap(
      await api.POST("/api/cases/{case_id}/severity", {
        params: { path: { case_id: caseId } },
        body,
      }),
    ),
  users: (query: Record<string, string>) =>
    call<UsersPage>("GET", "/api/identity/users", { query }),
  setRole: (userId: string, role: Role) =>
    call<null>("POST", `${userPath(userId)}/roles`, { body: { role } }),
  disable: (userId: string) => call<null>("POST", `${userPath(userId)}/disable`),
  enable: (userId: string) => call<null>("POST", `${userPath(userId)}/enable`),
};
