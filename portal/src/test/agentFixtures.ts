import { ME } from "./render";
import { aCase } from "./fixtures";

export const AGENT = {
  ...ME,
  id: "44444444-4444-4444-8444-444444444444",
  email: "grace@support.example",
  display_name: "Grace",
  role: "agent",
};
export const ADMIN = { ...AGENT, id: "55555555-5555-4555-8555-555555555555", role: "admin" };
export const OTHER_AGENT = { id: "66666666-6666-4666-8666-666666666666", display_name: "Linus" };
export const CUSTOMER = { id: ME.id, display_name: "Ada", email: "ada@example.com" };

export function aQueueItem(overrides: Record<string, unknown> = {}) {
  const { id, number, product, subject, severity, prioritised, status, last_activity_at } = aCase();
  return {
    id,
    number,
    product,
    subject,
    severity,
    prioritised,
    status,
    last_activity_at,
    waiting_on: "support",
    assignee: null,
    customer: CUSTOMER,
    next_deadline_at: new Date(Date.now() + 2 * 3600_000 + 90_000).toISOString(),
    breached: false,
    ...overrides,
  };
}

/** Both clocks running: first response due in 30 min, resolution in 4 h. */
export const anSla = () => ({
  first_response_due_at: new Date(Date.now() + 30 * 60_000 + 30_000).toISOString(),
  first_responded_at: null,
  first_response_breached: false,
  resolution_due_at: new Date(Date.now() + 4 * 3600_000 + 30_000).toISOString(),
  resolution_paused: false,
  resolution_remaining_seconds: null,
  resolution_breached: false,
});

/** The case as an agent sees it: customer, assignee, waiting state, SLA clocks. */
export function anAgentCase(overrides: Record<string, unknown> = {}) {
  return aCase({
    waiting_on: "support",
    assignee: null,
    customer: CUSTOMER,
    severity_changes: [],
    sla: anSla(),
    ...overrides,
  });
}
