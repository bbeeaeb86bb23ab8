import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { aCase, CASE_ID, SEVERITIES } from "../test/fixtures";
import { logIn, ME, renderPortal } from "../test/render";

function newCaseApi(create: () => Response | { status: number; json: unknown }) {
  return fakeApi({
    "GET /api/identity/me": () => ({ json: ME }),
    "GET /api/cases/products": () => ({ json: [{ id: "db", name: "Database" }] }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "POST /api/cases": create,
    "GET /api/cases/{id}": () => ({ json: aCase() }),
    "GET /api/notifications/cases/{id}/activity": () => ({ json: [] }),
  });
}

async function fillIn() {
  await screen.findByRole("radio", { name: /1 - Critical/ });
  await userEvent.selectOptions(await screen.findByLabelText("Product"), "Database");
  await userEvent.type(screen.getByLabelText("Subject"), "Production Down: writes fail");
  await userEvent.type(screen.getByLabelText("Description"), "Every write fails.");
  await userEvent.click(screen.getByRole("radio", { name: /1 - Critical/ }));
}

describe("Create Case", () => {
  it("test_double_submit_opens_one_case_and_shows_its_page", async () => {
    const api = newCaseApi(() => ({ status: 201, json: aCase() }));
    logIn();
    renderPortal("/cases/new");
    await screen.findByRole("option", { name: "Database" });
    await fillIn();
    expect(screen.getByText("This case will be prioritised")).toBeInTheDocument();
    await userEvent.dblClick(screen.getByRole("button", { name: "Submit" }));
    expect(await screen.findByRole("heading", { name: "Case 00001042" })).toBeInTheDocument();
    expect(window.location.pathname).toBe(`/cases/${CASE_ID}`);
    const posts = api.of("POST", "/api/cases");
    const keys = new Set(posts.map((p) => p.headers.get("Idempotency-Key")));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[0]!.body).toEqual({
      product: "db",
      subject: "Production Down: writes fail",
      description: "Every write fails.",
      severity: 1,
      attachments: [],
    });
  });

  it("test_failed_submit_keeps_every_field_and_says_what_is_wrong", async () => {
    newCaseApi(() =>
      problem(422, "The request has invalid fields.", {
        errors: [{ field: "body.subject", message: "The subject is too long." }],
      }),
    );
    logIn();
    renderPortal("/cases/new");
    await screen.findByRole("option", { name: "Database" });
    await fillIn();
    await userEvent.click(screen.getByRole("button", { name: "Submit" }));
    expect(await screen.findByLabelText("Subject")).toHaveAccessibleDescription(
      expect.stringContaining("The subject is too long."),
    );
    expect(screen.getByLabelText("Subject")).toHaveValue("Production Down: writes fail");
    expect(screen.getByLabelText("Description")).toHaveValue("Every write fails.");
    expect(screen.getByLabelText("Product")).toHaveValue("db");
    expect(screen.getByRole("radio", { name: /1 - Critical/ })).toBeChecked();
    expect(screen.getByRole("button", { name: "Submit" })).toBeEnabled();
  });

  it("test_a_new_case_from_a_closed_one_refers_to_its_number", async () => {
    newCaseApi(() => ({ status: 201, json: aCase() }));
    logIn();
    renderPortal("/cases/new?refers_to=00001042");
    const description = await screen.findByRole("textbox", { name: "Description" });
    expect((description as HTMLTextAreaElement).value).toContain("case 00001042");
    expect(screen.getByText(/Production Down/, { selector: "strong" })).toBeInTheDocument();
    expect(screen.getByLabelText("Attachments")).toHaveAttribute("type", "file");
    expect(screen.getByLabelText("Attachments")).toHaveAttribute("multiple");
    await waitFor(() => expect(screen.getAllByRole("radio")).toHaveLength(3));
    expect(screen.getByRole("radio", { name: "1 - Critical" })).toHaveAccessibleDescription(
      "Production stopped or severely impacted, no workaround.",
    );
  });
});
