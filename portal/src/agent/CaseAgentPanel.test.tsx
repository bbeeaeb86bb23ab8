import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../test/api";
import { aCase, CASE_ID, SEVERITIES } from "../test/fixtures";
import { AGENT, anAgentCase, anSla, OTHER_AGENT } from "../test/agentFixtures";
import { logIn, ME, renderPortal } from "../test/render";

function agentCaseApi(view: () => unknown, more = {}, me: Record<string, unknown> = AGENT) {
  return fakeApi({
    "GET /api/identity/me": () => ({ json: me }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "GET /api/cases/agents": () => ({
      json: [{ id: AGENT.id, display_name: AGENT.display_name }, OTHER_AGENT],
    }),
    "GET /api/cases/{id}": () => ({ json: view() }),
    "GET /api/notifications/cases/{id}/activity": () => ({ json: [] }),
    ...more,
  });
}

describe("case page for agents", () => {
  it("test_an_agent_sees_the_customer_the_assignee_the_waiting_state_and_the_sla_clocks", async () => {
    logIn();
    agentCaseApi(() => anAgentCase());
    renderPortal(`/cases/${CASE_ID}`);
    const customer = await screen.findByRole("region", { name: "Customer" });
    expect(customer).toHaveTextContent("Ada");
    expect(within(customer).getByRole("link", { name: "ada@example.com" })).toHaveAttribute(
      "href",
      "mailto:ada@example.com",
    );
    expect(screen.getByRole("region", { name: "Assignee" })).toHaveTextContent("Unassigned");
    expect(screen.getByRole("button", { name: "Waiting on support" })).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    const sla = screen.getByRole("region", { name: "SLA" });
    expect(sla).toHaveTextContent("First response");
    expect(sla).toHaveTextContent("30 min left");
    expect(sla).toHaveTextContent("4 h left");
  });

  it("test_a_breached_clock_says_when_it_was_due", async () => {
    logIn();
    agentCaseApi(() =>
      anAgentCase({
        sla: { ...anSla(), resolution_breached: true, first_responded_at: "2026-12-01T09:10:00Z" },
      }),
    );
    renderPortal(`/cases/${CASE_ID}`);
    const sla = await screen.findByRole("region", { name: "SLA" });
    expect(sla).toHaveTextContent("Answered");
    expect(sla).toHaveTextContent(/Breached was due/);
  });

  it("test_a_customer_sees_none_of_the_agent_controls", async () => {
    logIn();
    agentCaseApi(() => aCase(), {}, ME);
    renderPortal(`/cases/${CASE_ID}`);
    await screen.findByRole("heading", { name: "Case 00001042" });
    for (const name of ["Assign to me", "Unassign", "Waiting on customer", "Change severity"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
    expect(screen.queryByRole("region", { name: "Customer" })).not.toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "SLA" })).not.toBeInTheDocument();
    expect(screen.queryByRole("checkbox", { name: "Internal note" })).not.toBeInTheDocument();
    expect(screen.getAllByText("Open").length).toBeGreaterThan(0);
  });

  it("test_assign_to_me_then_unassign_send_the_assignee_and_show_the_answer", async () => {
    logIn();
    let assignee: unknown = null;
    const api = agentCaseApi(() => anAgentCase({ assignee }), {
      "POST /api/cases/{id}/assignment": (call: { body: { assignee_id: string | null } }) => {
        assignee = call.body.assignee_id
          ? { id: call.body.assignee_id, display_name: "Grace" }
          : null;
        return { json: anAgentCase({ assignee }) };
      },
    });
    renderPortal(`/cases/${CASE_ID}`);
    await userEvent.click(await screen.findByRole("button", { name: "Assign to me" }));
    const panel = screen.getByRole("region", { name: "Assignee" });
    await waitFor(() => expect(panel).toHaveTextContent("Assigned to Grace (you)"));
    expect(api.of("POST", `/api/cases/${CASE_ID}/assignment`)[0]!.body).toEqual({
      assignee_id: AGENT.id,
    });
    expect(screen.queryByRole("button", { name: "Assign to me" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Unassign" }));
    await waitFor(() => expect(panel).toHaveTextContent("Unassigned"));
    expect(api.of("POST", `/api/cases/${CASE_ID}/assignment`)[1]!.body).toEqual({
      assignee_id: null,
    });
  });

  it("test_the_assignee_menu_gives_the_case_to_another_agent", async () => {
    logIn();
    const api = agentCaseApi(() => anAgentCase(), {
      "POST /api/cases/{id}/assignment": () => ({ json: anAgentCase({ assignee: OTHER_AGENT }) }),
    });
    renderPortal(`/cases/${CASE_ID}`);
    const menu = await screen.findByRole("combobox", { name: "Assign to" });
    await screen.findByRole("option", { name: "Linus" });
    await userEvent.selectOptions(menu, OTHER_AGENT.id);
    await userEvent.click(screen.getByRole("button", { name: "Assign" }));
    await waitFor(() =>
      expect(api.of("POST", `/api/cases/${CASE_ID}/assignment`)[0]!.body).toEqual({
        assignee_id: OTHER_AGENT.id,
      }),
    );
  });

  it("test_waiting_on_customer_is_sent_and_pauses_the_resolution_clock", async () => {
    logIn();
    let waiting = "support";
    const paused = {
      ...anSla(),
      resolution_due_at: null,
      resolution_paused: true,
      resolution_remaining_seconds: 3 * 3600,
    };
    const api = agentCaseApi(
      () => anAgentCase(waiting === "customer" ? { waiting_on: waiting, sla: paused } : {}),
      {
        "POST /api/cases/{id}/waiting": () => {
          waiting = "customer";
          return { json: anAgentCase({ waiting_on: "customer", sla: paused }) };
        },
      },
    );
    renderPortal(`/cases/${CASE_ID}`);
    await userEvent.click(await screen.findByRole("button", { name: "Waiting on customer" }));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "Waiting on customer" })).toHaveAttribute(
        "aria-pressed",
        "true",
      ),
    );
    expect(api.of("POST", `/api/cases/${CASE_ID}/waiting`)[0]!.body).toEqual({
      waiting_on: "customer",
    });
    const sla = screen.getByRole("region", { name: "SLA" });
    expect(sla).toHaveTextContent("Paused: 3 h of working time left");
    expect(sla).toHaveTextContent("Working time counts the hours of the case's SLA target");
  });

  it("test_a_paused_clock_shows_its_working_time_in_hours_not_wall_days", async () => {
    logIn();
    const paused = {
      ...anSla(),
      resolution_due_at: null,
      resolution_paused: true,
      resolution_remaining_seconds: 40 * 3600, // 5 business days of 8 h
    };
    agentCaseApi(() => anAgentCase({ waiting_on: "customer", sla: paused }));
    renderPortal(`/cases/${CASE_ID}`);
    const sla = await screen.findByRole("region", { name: "SLA" });
    expect(sla).toHaveTextContent("Paused: 40 h of working time left");
    expect(sla).not.toHaveTextContent("1 d 16 h");
    expect(sla).toHaveTextContent("The deadline comes back when the clock runs again.");
  });

  it("test_a_severity_change_needs_a_reason_and_sends_it", async () => {
    logIn();
    const api = agentCaseApi(() => anAgentCase(), {
      "POST /api/cases/{id}/severity": () => ({ json: anAgentCase({ severity: 2 }) }),
    });
    renderPortal(`/cases/${CASE_ID}`);
    const form = await screen.findByRole("form", { name: "Change severity" });
    await userEvent.selectOptions(
      within(form).getByRole("combobox", { name: "New severity" }),
      "2",
    );
    await userEvent.click(within(form).getByRole("button", { name: "Change severity" }));
    expect(await within(form).findByText("Say why the severity changes.")).toBeInTheDocument();
    expect(api.of("POST", `/api/cases/${CASE_ID}/severity`)).toHaveLength(0);
    await userEvent.type(within(form).getByRole("textbox", { name: "Reason" }), "Workaround found");
    await userEvent.click(within(form).getByRole("button", { name: "Change severity" }));
    await waitFor(() =>
      expect(api.of("POST", `/api/cases/${CASE_ID}/severity`)[0]!.body).toEqual({
        severity: 2,
        reason: "Workaround found",
      }),
    );
  });

  it("test_an_internal_note_looks_different_and_says_the_customer_does_not_see_it", async () => {
    logIn();
    agentCaseApi(() =>
      anAgentCase({
        comments: [
          {
            id: "c9",
            author_id: AGENT.id,
            author_name: "Grace",
            author_role: "agent",
            body: "Looks like the disk.",
            internal: true,
            created_at: "2026-12-01T09:40:00Z",
          },
        ],
      }),
    );
    renderPortal(`/cases/${CASE_ID}`);
    const note = (await screen.findByText("Looks like the disk.")).closest("li")!;
    expect(note).toHaveClass("internal");
    expect(note).toHaveTextContent("not shown to the customer");
  });
});
