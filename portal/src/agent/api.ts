import { toProblem, ProblemError } from "../api/problem";
import { session } from "../session/session";

/*
 * The agent workspace's calls, typed by hand against the agreed shapes (coord AGENT-API.md) until the services'
 * OpenAPI has them; then these types become aliases of the generated ones and the calls go through `api`.
 */

export type WaitingOn = "support" | "customer";
export type Role = "customer" | "agent" | "admin";

export interface Person {
  id: string;
  display_name: string;
}

export interface CustomerView extends Person {
  email: string;
}

export interface SlaView {
  first_response_due_at: string | null;
  first_responded_at: string | null;
  first_response_breached: boolean;
  resolution_due_at: string | null;
  resolution_paused: boolean;
  resolution_remaining_seconds: number | null;
  resolution_breached: boolean;
}

export interface SeverityChange {
  from_severity: number;
  to_severity: number;
  prioritised: boolean;
  reason: string;
  changed_by_name: string | null;
  changed_at: string;
}

/** What the case view adds for agents (null or empty for customers). */
export interface AgentCaseFields {
  waiting_on?: WaitingOn | null;
  assignee?: Person | null;
  customer?: CustomerView | null;
  severity_changes?: SeverityChange[];
  sla?: SlaView | null;
}

export interface QueueItem {
  id: string;
  number: string;
  subject: string;
  severity: number;
  prioritised: boolean;
  status: "open" | "closed";
  product: { id: string; name: string };
  last_activity_at: string;
  waiting_on: WaitingOn | null;
  assignee: Person | null;
  customer: CustomerView | null;
  next_deadline_at: string | null;
  breached: boolean;
}

export interface QueuePage {
  items: QueueItem[];
  next_cursor: string | null;
}

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

const casePath = (caseId: string) => `/api/cases/${encodeURIComponent(caseId)}`;
const userPath = (userId: string) => `/api/identity/users/${encodeURIComponent(userId)}`;

export const agentApi = {
  queue: (query: Record<string, string>) => call<QueuePage>("GET", "/api/cases/queue", { query }),
  agents: () => call<Person[]>("GET", "/api/cases/agents"),
  assign: (caseId: string, assigneeId: string | null) =>
    call<unknown>("POST", `${casePath(caseId)}/assignment`, { body: { assignee_id: assigneeId } }),
  setWaiting: (caseId: string, waitingOn: WaitingOn) =>
    call<unknown>("POST", `${casePath(caseId)}/waiting`, { body: { waiting_on: waitingOn } }),
  changeSeverity: (
    caseId: string,
    body: { severity: number; reason: string; prioritised?: boolean },
  ) => call<unknown>("POST", `${casePath(caseId)}/severity`, { body }),
  users: (query: Record<string, string>) =>
    call<UsersPage>("GET", "/api/identity/users", { query }),
  setRole: (userId: string, role: Role) =>
    call<null>("POST", `${userPath(userId)}/roles`, { body: { role } }),
  disable: (userId: string) => call<null>("POST", `${userPath(userId)}/disable`),
  enable: (userId: string) => call<null>("POST", `${userPath(userId)}/enable`),
};
