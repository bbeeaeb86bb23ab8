import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/problem";
import type { paths } from "../api/schema";

/** The agent workspace's calls in one place, through the generated client. */

export type WaitingOn = "support" | "customer";
export type Role = "customer" | "agent" | "admin";
export type Person = Schemas["PersonView"];
export type SlaView = Schemas["SlaView"];
export type QueueItem = Schemas["QueueItemView"];
export type AgentCase = Schemas["CaseView"];
export type QueueApiQuery = NonNullable<paths["/api/cases/queue"]["get"]["parameters"]["query"]>;

export type UserAdminView = Schemas["UserListItem"];
export type UsersQuery = NonNullable<paths["/api/identity/users"]["get"]["parameters"]["query"]>;

const userPath = (userId: string) => ({ params: { path: { user_id: userId } } });

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
  users: async (query: UsersQuery) =>
    unwrap(await api.GET("/api/identity/users", { params: { query } })),
  setRole: async (userId: string, role: Role) =>
    unwrap(
      await api.POST("/api/identity/users/{user_id}/roles", {
        ...userPath(userId),
        body: { role },
      }),
    ),
  disable: async (userId: string) =>
    unwrap(await api.POST("/api/identity/users/{user_id}/disable", userPath(userId))),
  enable: async (userId: string) =>
    unwrap(await api.POST("/api/identity/users/{user_id}/enable", userPath(userId))),
};
