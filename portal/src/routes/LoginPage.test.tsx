import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { ME, renderPortal } from "../test/render";
import { session } from "../session/session";

describe("Login and Logout", () => {
  it("test_wrong_password_shows_the_detail", async () => {
    fakeApi({
      "POST /api/identity/sessions": () => problem(401, "The email or password is wrong."),
    });
    renderPortal("/login");
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Login" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The email or password is wrong.");
    expect(screen.getByLabelText("Email")).toHaveValue("ada@example.com");
    expect(screen.getByRole("link", { name: "Forgot password?" })).toHaveAttribute(
      "href",
      "/forgot-password",
    );
    expect(screen.getByRole("link", { name: "Not a member?" })).toHaveAttribute("href", "/signup");
  });

  it("test_login_then_logout_clears_private_data_and_guards_the_pages", async () => {
    fakeApi({
      "POST /api/identity/sessions": () => ({
        json: { access_token: "t1", refresh_token: "r", token_type: "Bearer", expires_in: 900 },
      }),
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/cases": () => ({ json: { items: [], next_cursor: null } }),
      "DELETE /api/identity/sessions/current": () => new Response(null, { status: 204 }),
    });
    const { queryClient } = renderPortal("/login");
    expect(screen.getByRole("link", { name: "Login" })).toBeInTheDocument();
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "secret secret");
    await userEvent.click(screen.getByRole("button", { name: "Login" }));
    expect(await screen.findByRole("heading", { name: "My Cases" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "My Cases" })).toBeInTheDocument();

    await userEvent.click(await screen.findByRole("button", { name: /Ada/ }));
    expect(screen.getByRole("link", { name: "Settings" })).toHaveAttribute("href", "/settings");
    await userEvent.click(screen.getByRole("button", { name: "Logout" }));
    expect(await screen.findByRole("heading", { name: "Login" })).toBeInTheDocument();
    expect(session.getSnapshot().accessToken).toBeNull();
    const cached = queryClient.getQueryCache().getAll();
    expect(cached.filter((q) => q.state.data !== undefined)).toHaveLength(0);

    window.history.back();
    await waitFor(() => expect(window.location.pathname).toBe("/login"));
    expect(screen.queryByRole("heading", { name: "My Cases" })).not.toBeInTheDocument();
  });
});
