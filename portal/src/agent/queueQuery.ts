import type { QueueApiQuery } from "./api";

/** The Queue's filters live in the URL (?status=&assignee=&...) so Back and reload restore them. */
export type QueueStatus = "open" | "waiting_on_support" | "waiting_on_customer" | "closed" | "all";
/** Anyone, me, unassigned, or one agent by id (`?assignee=<uuid>`: "a named agent", as the API takes it). */
export type QueueAssignee =
  "anyone" | "me" | "unassigned" | (string & { readonly agentId?: never });

const AGENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assigneeOf(value: string | null): QueueAssignee {
  if (value !== null && AGENT_ID.test(value)) return value.toLowerCase();
  return oneOf(value, ["anyone", "me", "unassigned"], "anyone");
}
export type QueueSla = "" | "breached" | "due_soon";
export type QueueSort = "urgency" | "last_activity";

export interface QueueQuery {
  status: QueueStatus;
  assignee: QueueAssignee;
  prioritised: boolean;
  severity: "" | "1" | "2" | "3";
  product: string;
  sla: QueueSla;
  q: string;
  sort: QueueSort;
  cursor: string | null;
}

export const DEFAULT_QUEUE: QueueQuery = {
  status: "open",
  assignee: "anyone",
  prioritised: false,
  severity: "",
  product: "",
  sla: "",
  q: "",
  sort: "urgency",
  cursor: null,
};

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

/** Unknown or malformed values fall back to the defaults: a hand-edited URL never breaks the page. */
export function readQueueQuery(params: URLSearchParams): QueueQuery {
  return {
    status: oneOf(
      params.get("status"),
      ["open", "waiting_on_support", "waiting_on_customer", "closed", "all"],
      "open",
    ),
    assignee: assigneeOf(params.get("assignee")),
    prioritised: params.get("prioritised") === "true",
    severity: oneOf(params.get("severity"), ["", "1", "2", "3"], ""),
    product: params.get("product") ?? "",
    sla: oneOf(params.get("sla"), ["", "breached", "due_soon"], ""),
    q: params.get("q") ?? "",
    sort: oneOf(params.get("sort"), ["urgency", "last_activity"], "urgency"),
    cursor: params.get("cursor") || null,
  };
}

/** Only what differs from the defaults goes into the URL, so a plain /queue is the default view. */
export function writeQueueQuery(query: QueueQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.status !== DEFAULT_QUEUE.status) params.set("status", query.status);
  if (query.assignee !== DEFAULT_QUEUE.assignee) params.set("assignee", query.assignee);
  if (query.prioritised) params.set("prioritised", "true");
  if (query.severity) params.set("severity", query.severity);
  if (query.product) params.set("product", query.product);
  if (query.sla) params.set("sla", query.sla);
  if (query.q) params.set("q", query.q);
  if (query.sort !== DEFAULT_QUEUE.sort) params.set("sort", query.sort);
  if (query.cursor) params.set("cursor", query.cursor);
  return params;
}

/** A filter change starts again at the first page. */
export function queueHref(query: QueueQuery, change: Partial<QueueQuery>): string {
  const search = writeQueueQuery({ ...query, cursor: null, ...change }).toString();
  return search ? `?${search}` : "?";
}

/** "Due soon" on the Queue: a running SLA deadline within this many hours (said beside the filter, sent to the API). */
export const DUE_SOON_HOURS = 4;

/** The query of GET /api/cases/queue for these filters. */
export function queueApiQuery(query: QueueQuery, limit = 20): QueueApiQuery {
  return {
    status: query.status,
    assignee: query.assignee,
    sort: query.sort,
    limit,
    ...(query.prioritised ? { prioritised: true } : {}),
    ...(query.severity ? { severity: Number(query.severity) } : {}),
    ...(query.product ? { product: query.product } : {}),
    ...(query.sla ? { sla: query.sla } : {}),
    ...(query.sla === "due_soon" ? { due_within_hours: DUE_SOON_HOURS } : {}),
    ...(query.q ? { q: query.q } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  };
}
