import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi, problem } from "../test/api";
import { logIn, ME, renderPortal } from "../test/render";

describe("Settings", () => {
  it("test_display_name_is_saved_and_shown_in_the_header", async () => {
    const api = fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/identity/display-names/availability": (call) => ({
        json: { display_name: call.search.get("display_name"), available: true, reason: null },
      }),
      "PATCH /api/identity/me": (call) => ({
        json: { ...ME, display_name: (call.body as { display_name: string }).display_name },
      }),
    });
    logIn();
    renderPortal("/settings");
    const name = await screen.findByRole("textbox", { name: "Display name" });
    expect(name).toHaveValue("Ada");
    await userEvent.clear(name);
    await userEvent.type(name, "Ada L.");
    const form = name.closest("form")!;
    await userEvent.click(form.querySelector("button")!);
    expect(await screen.findByText("Your display name is saved.")).toBeInTheDocument();
    expect(api.of("PATCH", "/api/identity/me")[0]!.body).toEqual({ display_name: "Ada L." });
    await waitFor(() =>
      expect(screen.getByRole("button", { name: /Ada L\./ })).toBeInTheDocument(),
    );
  });

  it("test_a_weak_new_password_is_said_beside_it", async () => {
    fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "POST /api/identity/me/password": () =>
        problem(422, "The request has invalid fields.", {
          errors: [{ field: "new_password", message: "Use at least 12 characters." }],
        }),
    });
    logIn();
    renderPortal("/settings");
    await userEvent.type(await screen.findByLabelText("Current password"), "old secret here");
    await userEvent.type(screen.getByLabelText("New password"), "short");
    await userEvent.click(
      screen.getByLabelText("New password").closest("form")!.querySelector("button")!,
    );
    await waitFor(() =>
      expect(screen.getByLabelText("New password")).toHaveAccessibleDescription(
        "Use at least 12 characters.",
      ),
    );
    expect(screen.getByLabelText("Current password")).toHaveValue("old secret here");
  });
});
