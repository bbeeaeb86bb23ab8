import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../test/api";
import { ADMIN, AGENT } from "../test/agentFixtures";
import { logIn, renderPortal } from "../test/render";
import { actionsFor } from "./UsersPage";

const USER = {
  id: "88888888-8888-4888-8888-888888888888",
  email: "bob@example.com",
  display_name: "Bob",
  role: "customer",
  email_verified: true,
  disabled: false,
  created_at: "2026-11-01T10:00:00Z",
};

function usersApi(me: Record<string, unknown> = ADMIN) {
  const state = { ...USER };
  const api = fakeApi({
    "GET /api/identity/me": () => ({ json: me }),
    "GET /api/identity/users": () => ({
      json: {
        items: [state, { ...ADMIN, disabled: false, created_at: USER.created_at }],
        next_cursor: null,
      },
    }),
    "POST /api/identity/users/{id}/roles": (call) => {
      state.role = (call.body as { role: string }).role;
      return { status: 204 };
    },
    "POST /api/identity/users/{id}/disable": () => {
      state.disabled = true;
      return { status: 204 };
    },
  });
  return api;
}

describe("Users", () => {
  it("test_admins_have_a_users_link_and_agents_do_not_see_the_page", async () => {
    logIn();
    usersApi(AGENT);
    renderPortal("/users");
    expect(await screen.findByText(/for administrators/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Users" })).not.toBeInTheDocument();
  });

  it("test_search_goes_to_the_url_and_the_service", async () => {
    logIn();
    const api = usersApi();
    renderPortal("/users");
    expect(await screen.findByRole("link", { name: "Users" })).toHaveAttribute("href", "/users");
    await userEvent.type(await screen.findByRole("searchbox", { name: "Search" }), "bob@");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(window.location.search).toBe("?q=bob%40"));
    await waitFor(() =>
      expect(api.of("GET", "/api/identity/users").at(-1)!.search.get("q")).toBe("bob@"),
    );
  });

  it("test_make_agent_then_remove_agent_change_the_role_shown", async () => {
    logIn();
    const api = usersApi();
    renderPortal("/users");
    const row = (await screen.findByText("bob@example.com")).closest("tr")!;
    expect(row).toHaveTextContent("Customer");
    await userEvent.click(within(row).getByRole("button", { name: "Make agent" }));
    await waitFor(() => expect(row).toHaveTextContent("Agent"));
    expect(api.of("POST", `/api/identity/users/${USER.id}/roles`)[0]!.body).toEqual({
      role: "agent",
    });
    expect(screen.getByRole("status")).toHaveTextContent("Bob is now an agent.");
    await userEvent.click(within(row).getByRole("button", { name: "Remove agent" }));
    await waitFor(() => expect(row).toHaveTextContent("Customer"));
    expect(api.of("POST", `/api/identity/users/${USER.id}/roles`)[1]!.body).toEqual({
      role: "customer",
    });
  });

  it("test_disable_asks_for_confirmation_first", async () => {
    logIn();
    const api = usersApi();
    renderPortal("/users");
    const row = (await screen.findByText("bob@example.com")).closest("tr")!;
    await userEvent.click(within(row).getByRole("button", { name: "Disable" }));
    const dialog = screen.getByRole("dialog", { name: "Disable" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(api.of("POST", `/api/identity/users/${USER.id}/disable`)).toHaveLength(0);
    await userEvent.click(within(row).getByRole("button", { name: "Disable" }));
    await userEvent.click(
      within(screen.getByRole("dialog", { name: "Disable" })).getByRole("button", {
        name: "Disable",
      }),
    );
    await waitFor(() => expect(row).toHaveTextContent("Disabled"));
    expect(api.of("POST", `/api/identity/users/${USER.id}/disable`)).toHaveLength(1);
  });

  it("test_each_action_button_keeps_its_name_and_says_whom_it_acts_on", async () => {
    logIn();
    usersApi();
    renderPortal("/users");
    const row = (await screen.findByText("bob@example.com")).closest("tr")!;
    const button = within(row).getByRole("button", { name: "Make agent" });
    expect(button).toHaveAccessibleDescription("Bob bob@example.com");
    const mine = screen.getByText(ADMIN.email).closest("tr")!;
    expect(within(mine).queryByRole("button")).not.toBeInTheDocument();
    expect(mine).toHaveTextContent("None on your own account");
  });

  it("test_an_admin_is_offered_no_action_on_themself_and_no_role_change_on_another_admin", () => {
    const base = { ...USER, created_at: USER.created_at };
    expect(actionsFor({ ...base, id: ADMIN.id, role: "admin" }, ADMIN.id)).toEqual([]);
    expect(actionsFor({ ...base, role: "admin" }, ADMIN.id)).toEqual(["disable"]);
    expect(actionsFor({ ...base, role: "agent", disabled: true }, ADMIN.id)).toEqual([
      "remove-agent",
      "enable",
    ]);
  });
});
