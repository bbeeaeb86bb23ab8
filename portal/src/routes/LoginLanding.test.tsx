import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../test/api";
import { SEVERITIES } from "../test/fixtures";
import { ADMIN, AGENT } from "../test/agentFixtures";
import { ME, renderPortal } from "../test/render";

function loginApi(me: Record<string, unknown>) {
  return fakeApi({
    "POST /api/identity/sessions": () => ({
      json: { access_token: "t1", refresh_token: "r", token_type: "Bearer", expires_in: 900 },
    }),
    "GET /api/identity/me": () => ({ json: me }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "GET /api/cases/products": () => ({ json: [] }),
    "GET /api/cases/queue": () => ({ json: { items: [], next_cursor: null } }),
    "GET /api/cases": () => ({ json: { items: [], next_cursor: null } }),
    "GET /api/cases/counts": () => ({ json: { all: 0, open: 0, closed: 0 } }),
    "GET /api/identity/users": () => ({ json: { items: [], next_cursor: null } }),
  });
}

async function logInThroughTheForm() {
  await userEvent.type(await screen.findByLabelText("Email"), "someone@example.com");
  await userEvent.type(screen.getByLabelText("Password"), "secret secret");
  await userEvent.click(screen.getByRole("button", { name: "Login" }));
}

describe("Landing after login", () => {
  it("test_an_agent_lands_on_the_queue", async () => {
    loginApi(AGENT);
    renderPortal("/login");
    await logInThroughTheForm();
    expect(await screen.findByRole("heading", { name: "Queue" })).toBeInTheDocument();
    expect(window.location.pathname).toBe("/queue");
  });

  it("test_an_admin_lands_on_the_queue", async () => {
    loginApi(ADMIN);
    renderPortal("/login");
    await logInThroughTheForm();
    expect(await screen.findByRole("heading", { name: "Queue" })).toBeInTheDocument();
  });

  it("test_a_customer_lands_on_my_cases", async () => {
    loginApi(ME);
    renderPortal("/login");
    await logInThroughTheForm();
    expect(await screen.findByRole("heading", { name: "My Cases" })).toBeInTheDocument();
    expect(window.location.pathname).toBe("/cases");
  });

  it("test_the_page_an_agent_asked_for_wins_over_the_queue", async () => {
    loginApi(AGENT);
    renderPortal(`/login?next=${encodeURIComponent("/cases?status=closed")}`);
    await logInThroughTheForm();
    expect(await screen.findByRole("heading", { name: "My Cases" })).toBeInTheDocument();
    expect(window.location.pathname + window.location.search).toBe("/cases?status=closed");
  });

  it("test_a_deep_link_opened_logged_out_comes_back_after_login", async () => {
    fakeApi({
      "POST /api/identity/sessions/refresh": () => ({ status: 401, json: null }),
      "POST /api/identity/sessions": () => ({
        json: { access_token: "t1", refresh_token: "r", token_type: "Bearer", expires_in: 900 },
      }),
      "GET /api/identity/me": () => ({ json: ADMIN }),
      "GET /api/identity/users": () => ({ json: { items: [], next_cursor: null } }),
    });
    renderPortal("/users?q=ada");
    expect(await screen.findByRole("heading", { name: "Login" })).toBeInTheDocument();
    await logInThroughTheForm();
    expect(await screen.findByRole("heading", { name: "Users" })).toBeInTheDocument();
    expect(window.location.pathname + window.location.search).toBe("/users?q=ada");
  });
});
