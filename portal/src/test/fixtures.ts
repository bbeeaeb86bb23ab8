import { ME } from "./render";

export const CASE_ID = "22222222-2222-4222-8222-222222222222";

export function aCase(overrides: Record<string, unknown> = {}) {
  return {
    id: CASE_ID,
    number: "00001042",
    product: { id: "db", name: "Database" },
    subject: "Production Down: the cluster refuses writes",
    description: "Since 9:00 every write fails.",
    severity: 1,
    prioritised: true,
    status: "open",
    opened_by: ME.id,
    opened_at: "2026-12-01T09:00:00Z",
    closed_at: null,
    last_activity_at: "2026-12-01T10:00:00Z",
    version: 3,
    comments: [
      {
        id: "c1",
        author_id: "33333333-3333-4333-8333-333333333333",
        author_name: "Grace from Support",
        author_role: "agent",
        body: "We are looking at it.",
        internal: false,
        created_at: "2026-12-01T09:30:00Z",
      },
    ],
    attachments: [
      {
        id: "a1",
        filename: "server.log",
        size: 2048,
        content_type: "text/plain",
        sha256: "x",
        added_by: ME.id,
        added_at: "2026-12-01T09:01:00Z",
      },
    ],
    ...overrides,
  };
}

export const SEVERITIES = [
  {
    level: 1,
    name: "Critical",
    description: "Production stopped or severely impacted, no workaround.",
  },
  { level: 2, name: "Major", description: "Production impaired; a workaround exists." },
  { level: 3, name: "Minor", description: "A question or a small defect." },
];
