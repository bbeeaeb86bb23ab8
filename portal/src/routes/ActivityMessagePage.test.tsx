import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { fakeApi } from "../test/api";
import { CASE_ID } from "../test/fixtures";
import { logIn, ME, renderPortal } from "../test/render";

function message(html: string, text = "Plain body") {
  return {
    id: "m1",
    case_id: CASE_ID,
    direction: "outbound",
    headers: {},
    subject: "[Case 00001042] We received your case",
    text,
    html,
    from: "support@casefold.local",
    to: "ada@example.com",
    status: "sent",
    sent_at: "2026-12-01T09:00:05Z",
    attempts: 1,
    last_error: null,
  };
}

describe("an email of the activity history", () => {
  it("test_html_email_is_shown_in_a_sandboxed_frame_never_in_the_page", async () => {
    logIn();
    fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/notifications/messages/{id}": () => ({
        json: message(
          '<html><head><style>p{color:red}</style></head><body><p id="evil" style="color:red">Hello</p><script>alert(1)</script></body></html>',
        ),
      }),
    });
    const { container } = renderPortal(`/cases/${CASE_ID}/activity/m1`);
    const frame = await screen.findByTitle("Email: [Case 00001042] We received your case");
    expect(frame.tagName).toBe("IFRAME");
    expect(frame).toHaveAttribute("sandbox", "");
    const srcdoc = frame.getAttribute("srcdoc")!;
    expect(srcdoc).toContain('<p id="evil">Hello</p>');
    // The page's CSP reaches into a srcdoc frame: inline styles and scripts are dropped, the portal's sheet linked.
    expect(srcdoc).not.toMatch(/<script|<style|style=/);
    expect(srcdoc).toContain('href="http://localhost:3000/email-frame.css"');
    expect(container.querySelector("#evil")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(screen.getByRole("link", { name: "Back" })).toHaveAttribute("href", `/cases/${CASE_ID}`);
  });

  it("test_text_email_is_shown_as_text", async () => {
    logIn();
    fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/notifications/messages/{id}": () => ({
        json: message("", "Your case 00001042 is open."),
      }),
    });
    renderPortal(`/cases/${CASE_ID}/activity/m1`);
    expect(await screen.findByText("Your case 00001042 is open.")).toBeInTheDocument();
  });

  it("test_an_email_withheld_from_a_disabled_account_says_it_was_never_sent", async () => {
    logIn();
    fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/notifications/messages/{id}": () => ({
        json: {
          ...message("", "A reply."),
          status: "withheld",
          sent_at: null,
          attempts: 0,
          last_error: "not sent: the recipient's account is disabled",
        },
      }),
    });
    renderPortal(`/cases/${CASE_ID}/activity/m1`);
    expect(await screen.findByText("Not sent: the account is disabled")).toBeInTheDocument();
    expect(screen.queryByText("Not sent yet")).toBeNull();
  });
});
