import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { renderPortal } from "../test/render";

describe("password reset", () => {
  it("test_forgot_password_sends_the_email_and_says_a_link_is_on_its_way", async () => {
    const api = fakeApi({
      "POST /api/identity/password-resets": () => new Response(null, { status: 202 }),
    });
    renderPortal("/login");
    await userEvent.click(await screen.findByRole("link", { name: "Forgot password?" }));
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByRole("status")).toHaveTextContent("a link to reset the password");
    expect(api.of("POST", "/api/identity/password-resets")[0]!.body).toEqual({
      email: "ada@example.com",
    });
  });

  it("test_reset_with_an_invalid_link_says_so_and_offers_a_new_one", async () => {
    fakeApi({
      "POST /api/identity/password-resets/confirm": () =>
        problem(400, "This reset link is invalid or expired; ask for a new one."),
    });
    renderPortal("/reset-password?token=used");
    await userEvent.type(await screen.findByLabelText("New password"), "a new long password");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("invalid or expired");
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute(
      "href",
      "/forgot-password",
    );
    expect(screen.getByLabelText("New password")).toHaveValue("a new long password");
  });

  it("test_reset_sends_the_token_from_the_link_and_leads_to_login", async () => {
    const api = fakeApi({
      "POST /api/identity/password-resets/confirm": () => new Response(null, { status: 204 }),
    });
    renderPortal("/reset-password?token=tok123");
    await userEvent.type(await screen.findByLabelText("New password"), "a new long password");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("heading", { name: "Password changed" })).toBeInTheDocument();
    expect(api.of("POST", "/api/identity/password-resets/confirm")[0]!.body).toEqual({
      token: "tok123",
      new_password: "a new long password",
    });
    expect(screen.getByRole("main").querySelector('a[href="/login"]')).not.toBeNull();
  });
});
