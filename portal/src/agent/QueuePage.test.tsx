import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../test/api";
import { SEVERITIES } from "../test/fixtures";
import { AGENT, aQueueItem, OTHER_AGENT } from "../test/agentFixtures";
import { logIn, ME, renderPortal } from "../test/render";

function queueApi(me: Record<string, unknown> = AGENT, items = [aQueueItem()]) {
  return fakeApi({
    "GET /api/identity/me": () => ({ json: me }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "GET /api/cases/products": () => ({ json: [{ id: "db", name: "Database" }] }),
    "GET /api/cases/queue": () => ({ json: { items, next_cursor: null } }),
    "GET /api/cases": () => ({ json: { items: [], next_cursor: null } }),
    "GET /api/cases/counts": () => ({ json: { all: 0, open: 0, closed: 0 } }),
    "GET /api/cases/agents": () => ({
      json: [{ id: AGENT.id, display_name: "Grace" }, OTHER_AGENT],
    }),
  });
}

describe("Queue", () => {
  it("test_agents_have_a_queue_link_and_customers_do_not", async () => {
    logIn();
    queueApi(AGENT);
    renderPortal("/cases");
    expect(await screen.findByRole("link", { name: "Queue" })).toHaveAttribute("href", "/queue");
    expect(screen.queryByRole("link", { name: "Users" })).not.toBeInTheDocument();
  });

  it("test_a_customer_sees_no_queue_link_and_the_page_says_it_is_not_theirs", async () => {
    logIn();
    const api = queueApi(ME);
    renderPortal("/queue");
    expect(await screen.findByText(/for the support team/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Queue" })).not.toBeInTheDocument();
    expect(api.of("GET", "/api/cases/queue")).toHaveLength(0);
  });

  it("test_filters_are_read_from_the_url_and_sent_to_the_service", async () => {
    logIn();
    const api = queueApi();
    renderPortal("/queue?status=waiting_on_customer&assignee=unassigned&sla=breached&q=disk");
    await screen.findByRole("link", { name: "00001042" });
    const call = api.of("GET", "/api/cases/queue").at(-1)!;
    expect(Object.fromEntries(call.search)).toMatchObject({
      status: "waiting_on_customer",
      assignee: "unassigned",
      sla: "breached",
      q: "disk",
      sort: "urgency",
    });
    expect(screen.getByRole("link", { name: "Waiting on customer" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    expect(screen.getByRole("link", { name: "Unassigned" })).toHaveAttribute(
      "aria-current",
      "page",
    );
    expect(screen.getByRole("link", { name: "Breached" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("navigation", { name: "SLA" })).toHaveTextContent(/within 4 h/);
    expect(screen.getByRole("searchbox", { name: "Search" })).toHaveValue("disk");
  });

  it("test_a_named_agents_cases_are_chosen_from_the_agents_and_kept_in_the_url", async () => {
    logIn();
    const api = queueApi();
    renderPortal("/queue");
    await screen.findByRole("link", { name: "00001042" });
    const agent = screen.getByRole("combobox", { name: "Assigned to" });
    await waitFor(() =>
      expect(within(agent).getByRole("option", { name: "Linus" })).toBeInTheDocument(),
    );
    await userEvent.selectOptions(agent, "Linus");
    await waitFor(() => expect(window.location.search).toBe(`?assignee=${OTHER_AGENT.id}`));
    await waitFor(() =>
      expect(api.of("GET", "/api/cases/queue").at(-1)!.search.get("assignee")).toBe(OTHER_AGENT.id),
    );
    for (const name of ["Mine", "Unassigned", "Anyone"]) {
      expect(screen.getByRole("link", { name })).not.toHaveAttribute("aria-current");
    }
    await userEvent.selectOptions(agent, "Any agent");
    await waitFor(() => expect(window.location.search).toBe(""));
  });

  it("test_a_hand_edited_assignee_that_is_no_agent_id_falls_back_to_anyone", async () => {
    logIn();
    const api = queueApi();
    renderPortal("/queue?assignee=somebody");
    await screen.findByRole("link", { name: "00001042" });
    expect(api.of("GET", "/api/cases/queue").at(-1)!.search.get("assignee")).toBe("anyone");
    expect(screen.getByRole("link", { name: "Anyone" })).toHaveAttribute("aria-current", "page");
  });

  it("test_choosing_filters_writes_them_to_the_url", async () => {
    logIn();
    const api = queueApi();
    renderPortal("/queue");
    await screen.findByRole("link", { name: "00001042" });
    await userEvent.click(screen.getByRole("link", { name: "Mine" }));
    await waitFor(() => expect(window.location.search).toBe("?assignee=me"));
    await userEvent.click(screen.getByRole("checkbox", { name: "Prioritised" }));
    await waitFor(() => expect(window.location.search).toBe("?assignee=me&prioritised=true"));
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Severity" }), "1");
    await waitFor(() =>
      expect(window.location.search).toBe("?assignee=me&prioritised=true&severity=1"),
    );
    await userEvent.click(screen.getByRole("link", { name: "Due soon" }));
    await waitFor(() => expect(window.location.search).toContain("sla=due_soon"));
    await waitFor(() =>
      expect(api.of("GET", "/api/cases/queue").at(-1)!.search.get("sla")).toBe("due_soon"),
    );
    await userEvent.click(screen.getByRole("link", { name: "Clear filters" }));
    await waitFor(() => expect(window.location.search).toBe(""));
  });

  it("test_each_row_links_the_case_and_shows_waiting_state_assignee_customer_and_sla", async () => {
    logIn();
    queueApi(AGENT, [
      aQueueItem(),
      aQueueItem({
        id: "77777777-7777-4777-8777-777777777777",
        number: "00001043",
        waiting_on: "customer",
        assignee: OTHER_AGENT,
        next_deadline_at: null,
        breached: true,
      }),
    ]);
    renderPortal("/queue");
    const first = (await screen.findByRole("link", { name: "00001042" })).closest("tr")!;
    expect(within(first).getByRole("link", { name: "00001042" })).toHaveAttribute(
      "href",
      "/cases/22222222-2222-4222-8222-222222222222",
    );
    expect(first).toHaveTextContent("Waiting on support");
    expect(first).toHaveTextContent("Unassigned");
    expect(first).toHaveTextContent("Ada");
    expect(first).toHaveTextContent("2 h 1 min left");
    // The countdown alone does not say when; the deadline is under it, with the time zone's name.
    expect(within(first).getByText(/^due /)).toHaveTextContent(/(UTC|GMT)/);
    const second = screen.getByRole("link", { name: "00001043" }).closest("tr")!;
    expect(second).toHaveTextContent("Waiting on customer");
    expect(second).toHaveTextContent("Linus");
    expect(second).toHaveTextContent("Breached");
  });
});
