import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { renderPortal } from "../test/render";

describe("Sign Up", () => {
  it("test_taken_display_name_is_said_beside_its_field_and_nothing_typed_is_lost", async () => {
    fakeApi({
      "POST /api/identity/users": () =>
        problem(409, "This display name is taken.", { field: "display_name" }),
    });
    renderPortal("/signup");
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse battery");
    await userEvent.type(screen.getByLabelText("Display name"), "Ada");
    await userEvent.click(screen.getByRole("checkbox", { name: /Terms/ }));
    await userEvent.click(screen.getByRole("button", { name: "Sign Up" }));
    const name = screen.getByRole("textbox", { name: "Display name" });
    expect(
      await screen.findByText("This display name is taken.", { selector: ".field-error" }),
    ).toBeInTheDocument();
    expect(name).toHaveAccessibleDescription(
      expect.stringContaining("This display name is taken."),
    );
    expect(name).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText("Email")).toHaveValue("ada@example.com");
    expect(screen.getByLabelText("Password")).toHaveValue("correct horse battery");
    expect(screen.getByRole("link", { name: "Terms" })).toHaveAttribute("href", "/terms");
  });

  it("test_a_taken_display_name_is_said_before_submit", async () => {
    const api = fakeApi({
      "GET /api/identity/display-names/availability": (call) => ({
        json: {
          display_name: call.search.get("display_name"),
          available: false,
          reason: "This display name is taken",
        },
      }),
    });
    renderPortal("/signup");
    await userEvent.type(await screen.findByLabelText("Display name"), "Ada");
    await waitFor(() =>
      expect(screen.getByLabelText("Display name")).toHaveAccessibleDescription(
        expect.stringContaining("This display name is taken"),
      ),
    );
    expect(
      api.of("GET", "/api/identity/display-names/availability").at(-1)!.search.get("display_name"),
    ).toBe("Ada");
    expect(api.of("POST", "/api/identity/users")).toHaveLength(0);
  });

  it("test_validation_errors_go_beside_each_field", async () => {
    fakeApi({
      "POST /api/identity/users": () =>
        problem(422, "The request has invalid fields.", {
          errors: [
            { field: "body.password", message: "Use at least 12 characters." },
            { field: "body.email", message: "Not an email address." },
          ],
        }),
    });
    renderPortal("/signup");
    await userEvent.click(await screen.findByRole("button", { name: "Sign Up" }));
    expect(await screen.findByLabelText("Password")).toHaveAccessibleDescription(
      "Use at least 12 characters.",
    );
    expect(screen.getByLabelText("Email")).toHaveAccessibleDescription("Not an email address.");
    expect(screen.getByRole("alert")).toHaveTextContent("err-123");
  });

  it("test_after_sign_up_the_check_email_page_offers_resend", async () => {
    const api = fakeApi({
      "POST /api/identity/users": () => ({ status: 201, json: { id: "u" } }),
      "POST /api/identity/email-confirmations/resend": () => new Response(null, { status: 202 }),
    });
    renderPortal("/signup");
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Sign Up" }));
    expect(await screen.findByRole("heading", { name: "Check your email" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Resend" }));
    await screen.findByRole("status");
    expect(api.of("POST", "/api/identity/email-confirmations/resend")[0]!.body).toEqual({
      email: "ada@example.com",
    });
  });
});
