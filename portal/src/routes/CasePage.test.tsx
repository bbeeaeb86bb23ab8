import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { aCase, CASE_ID, SEVERITIES } from "../test/fixtures";
import { logIn, ME, renderPortal } from "../test/render";

function caseApi(overrides: Record<string, unknown> = {}, more = {}) {
  return fakeApi({
    "GET /api/identity/me": () => ({ json: ME }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "GET /api/cases/{id}": () => ({ json: aCase(overrides) }),
    "GET /api/notifications/cases/{id}/activity": () => ({ json: [] }),
    ...more,
  });
}

describe("case page", () => {
  it("test_case_page_shows_number_badge_comments_and_attachments", async () => {
    logIn();
    caseApi();
    renderPortal(`/cases/${CASE_ID}`);
    expect(await screen.findByRole("heading", { name: "Case 00001042" })).toBeInTheDocument();
    expect(screen.getAllByText("Prioritised").length).toBeGreaterThan(0);
    expect(screen.getByText("We are looking at it.")).toBeInTheDocument();
    const comments = screen.getByRole("region", { name: "Comments" });
    expect(within(comments).getByText("Grace from Support")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "server.log" })).toHaveAttribute(
      "href",
      "/api/attachments/a1",
    );
    expect(screen.getByRole("link", { name: "Back to Cases List" })).toHaveAttribute(
      "href",
      "/cases",
    );
    expect(screen.getByRole("textbox", { name: "Comment" })).toBeInTheDocument();
  });

  it("test_closed_case_has_no_comment_box_and_offers_a_new_case", async () => {
    logIn();
    caseApi({ status: "closed", closed_at: "2026-12-01T11:00:00Z" });
    renderPortal(`/cases/${CASE_ID}`);
    await screen.findByRole("heading", { name: "Case 00001042" });
    expect(screen.getAllByText("Closed").length).toBeGreaterThan(0);
    expect(screen.queryByRole("textbox", { name: "Comment" })).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Add Attachment" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Close Case" })).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Create a new case" })).toHaveAttribute(
      "href",
      "/cases/new?refers_to=00001042",
    );
  });

  it("test_failed_comment_shows_detail_and_error_id_and_keeps_the_text", async () => {
    logIn();
    caseApi(
      {},
      {
        "POST /api/cases/{id}/comments": () => problem(409, "The case is closed; open a new case."),
      },
    );
    renderPortal(`/cases/${CASE_ID}`);
    const box = await screen.findByRole("textbox", { name: "Comment" });
    await userEvent.type(box, "Still broken");
    const form = screen.getByRole("form", { name: "Add Comment" });
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    const alert = await within(form).findByRole("alert");
    expect(alert).toHaveTextContent("The case is closed; open a new case.");
    expect(alert).toHaveTextContent("err-123");
    expect(alert).toHaveTextContent("quote this in a support case");
    expect(box).toHaveValue("Still broken");
  });

  it("test_a_retried_comment_reuses_its_idempotency_key", async () => {
    logIn();
    let attempt = 0;
    const api = caseApi(
      {},
      {
        "POST /api/cases/{id}/comments": () => {
          attempt += 1;
          return attempt === 1
            ? problem(503, "Try again in a moment.")
            : { status: 201, json: { id: "c2", body: "x" } };
        },
      },
    );
    renderPortal(`/cases/${CASE_ID}`);
    await userEvent.type(await screen.findByRole("textbox", { name: "Comment" }), "Any news?");
    const save = within(screen.getByRole("form", { name: "Add Comment" })).getByRole("button", {
      name: "Save",
    });
    await userEvent.click(save);
    await screen.findByText("Try again in a moment.");
    await userEvent.click(save);
    await waitFor(() => expect(api.of("POST", `/api/cases/${CASE_ID}/comments`)).toHaveLength(2));
    const [first, second] = api.of("POST", `/api/cases/${CASE_ID}/comments`);
    expect(first!.headers.get("Idempotency-Key")).toBeTruthy();
    expect(second!.headers.get("Idempotency-Key")).toBe(first!.headers.get("Idempotency-Key"));
    await waitFor(() => expect(screen.getByRole("textbox", { name: "Comment" })).toHaveValue(""));
  });

  it("test_close_case_asks_first_and_says_it_is_final", async () => {
    logIn();
    let status = "open";
    const api = caseApi(
      {},
      {
        "GET /api/cases/{id}": () => ({ json: aCase({ status }) }),
        "POST /api/cases/{id}/close": () => {
          status = "closed";
          return { json: aCase({ status }) };
        },
      },
    );
    renderPortal(`/cases/${CASE_ID}`);
    await userEvent.click(await screen.findByRole("button", { name: "Close Case" }));
    const dialog = screen.getByRole("dialog", { name: "Close Case" });
    expect(dialog).toHaveTextContent("cannot be reopened");
    expect(within(dialog).getByRole("button", { name: "Close Case" })).toHaveFocus();
    await userEvent.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(api.of("POST", `/api/cases/${CASE_ID}/close`)).toHaveLength(0);

    await userEvent.click(screen.getByRole("button", { name: "Close Case" }));
    await userEvent.click(
      within(screen.getByRole("dialog")).getByRole("button", { name: "Close Case" }),
    );
    expect(await screen.findByRole("link", { name: "Create a new case" })).toBeInTheDocument();
    expect(api.of("POST", `/api/cases/${CASE_ID}/close`)).toHaveLength(1);
  });

  it("test_another_customers_case_says_not_found", async () => {
    logIn();
    caseApi({}, { "GET /api/cases/{id}": () => problem(404, "No case with this id.") });
    renderPortal(`/cases/${CASE_ID}`);
    expect(await screen.findByRole("heading", { name: "Case not found" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("No case with this id.");
  });

  it("test_a_customer_whose_case_waits_on_them_is_told_so", async () => {
    logIn();
    caseApi({ waiting_on: "customer" });
    renderPortal(`/cases/${CASE_ID}`);
    await screen.findByRole("heading", { name: "Case 00001042" });
    expect(screen.getByRole("status")).toHaveTextContent("Support is waiting for your reply");
  });

  it("test_a_customer_whose_case_waits_on_support_sees_no_such_notice", async () => {
    logIn();
    caseApi({ waiting_on: "support" });
    renderPortal(`/cases/${CASE_ID}`);
    await screen.findByRole("heading", { name: "Case 00001042" });
    expect(screen.queryByText(/Support is waiting for your reply/)).not.toBeInTheDocument();
  });

  it("test_a_case_number_in_the_address_opens_that_case", async () => {
    logIn();
    const api = caseApi({}, { "GET /api/cases/by-number/{number}": () => ({ json: aCase() }) });
    renderPortal("/cases/00001042");
    expect(await screen.findByRole("heading", { name: "Case 00001042" })).toBeInTheDocument();
    expect(api.of("GET", "/api/cases/by-number/00001042")).toHaveLength(1);
    expect(api.of("GET", "/api/cases/00001042")).toHaveLength(0);
  });

  it("test_an_address_that_is_no_case_id_says_not_found_without_asking_the_api", async () => {
    logIn();
    const api = caseApi();
    renderPortal("/cases/not-a-case");
    expect(await screen.findByRole("heading", { name: "Case not found" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("There is no case at this address.");
    expect(screen.queryByText("The request has invalid fields.")).not.toBeInTheDocument();
    expect(api.of("GET", "/api/cases/not-a-case")).toHaveLength(0);
  });

  it("test_activity_history_lists_emails_with_links_to_each", async () => {
    logIn();
    caseApi(
      {},
      {
        "GET /api/notifications/cases/{id}/activity": () => ({
          json: [
            {
              id: "m1",
              kind: "ack",
              label: "Acknowledgement",
              direction: "outbound",
              from: "support@casefold.local",
              to: "ada@example.com",
              subject: "[Case 00001042] Production Down",
              sent_at: "2026-12-01T09:00:05Z",
              status: "sent",
            },
          ],
        }),
      },
    );
    renderPortal(`/cases/${CASE_ID}`);
    const section = (await screen.findByRole("heading", { name: "Activity History" })).closest(
      "section",
    )!;
    const link = await within(section).findByRole("link", {
      name: "[Case 00001042] Production Down",
    });
    expect(link).toHaveAttribute("href", `/cases/${CASE_ID}/activity/m1`);
    expect(within(section).getByRole("cell", { name: "Acknowledgement" })).toBeInTheDocument();
    for (const column of ["Subject", "From", "To", "Sent"]) {
      expect(within(section).getByRole("columnheader", { name: column })).toBeInTheDocument();
    }
  });
});
