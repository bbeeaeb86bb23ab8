import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../test/api";
import { aCase, SEVERITIES } from "../test/fixtures";
import { logIn, ME, renderPortal } from "../test/render";

function listApi(nextCursor: (cursor: string | null) => string | null = () => null) {
  return fakeApi({
    "GET /api/identity/me": () => ({ json: ME }),
    "GET /api/cases/severities": () => ({ json: SEVERITIES }),
    "GET /api/cases/counts": (call) => ({
      json: call.search.get("q") ? { all: 1, open: 1, closed: 0 } : { all: 12, open: 5, closed: 7 },
    }),
    "GET /api/cases": (call) => ({
      json: {
        items: [aCase({ number: call.search.get("cursor") ? "00000002" : "00000001" })],
        next_cursor: nextCursor(call.search.get("cursor")),
      },
    }),
  });
}

describe("My Cases", () => {
  it("test_filter_and_search_are_read_from_the_url", async () => {
    logIn();
    const api = listApi();
    renderPortal("/cases?status=closed&q=printer");
    expect(await screen.findByRole("link", { name: "00000001" })).toBeInTheDocument();
    const [call] = api.of("GET", "/api/cases");
    expect(call!.search.get("status")).toBe("closed");
    expect(call!.search.get("q")).toBe("printer");
    expect(screen.getByRole("link", { name: /^Closed/ })).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("searchbox", { name: "Search" })).toHaveValue("printer");
  });

  it("test_filter_and_search_are_written_to_the_url", async () => {
    logIn();
    const api = listApi();
    renderPortal("/cases");
    await screen.findByRole("link", { name: "00000001" });
    await userEvent.click(screen.getByRole("link", { name: /^Open/ }));
    await waitFor(() => expect(window.location.search).toBe("?status=open"));
    await userEvent.type(screen.getByRole("searchbox", { name: "Search" }), "disk");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(window.location.search).toBe("?status=open&q=disk"));
    await waitFor(() => expect(api.calls.at(-1)!.search.get("q")).toBe("disk"));
  });

  it("test_each_filter_shows_its_count_for_the_search", async () => {
    logIn();
    const api = listApi();
    renderPortal("/cases");
    expect(await screen.findByRole("link", { name: "All (12)" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open (5)" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Closed (7)" })).toBeInTheDocument();
    expect(await screen.findByText("1 - Critical")).toBeInTheDocument();
    await userEvent.type(screen.getByRole("searchbox", { name: "Search" }), "disk");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(await screen.findByRole("link", { name: "Closed (0)" })).toBeInTheDocument();
    expect(api.of("GET", "/api/cases/counts").at(-1)!.search.get("q")).toBe("disk");
  });

  it("test_an_agents_capped_counts_show_a_plus_and_exact_ones_do_not", async () => {
    logIn();
    fakeApi({
      "GET /api/identity/me": () => ({ json: ME }),
      "GET /api/cases/severities": () => ({ json: SEVERITIES }),
      "GET /api/cases/counts": () => ({
        json: {
          all: 1345,
          open: 1000,
          closed: 345,
          all_capped: true,
          open_capped: true,
          closed_capped: false,
        },
      }),
      "GET /api/cases": () => ({ json: { items: [aCase()], next_cursor: null } }),
    });
    renderPortal("/cases");
    expect(await screen.findByRole("link", { name: "All (1,345+)" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open (1,000+)" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Closed (345)" })).toBeInTheDocument();
  });

  it("test_table_has_the_guide_columns_and_links_each_case", async () => {
    logIn();
    listApi();
    renderPortal("/cases");
    const link = await screen.findByRole("link", { name: "00000001" });
    expect(link).toHaveAttribute("href", `/cases/${aCase().id}`);
    for (const column of ["Case #", "Subject", "Status", "Severity", "Last activity"]) {
      expect(screen.getByRole("columnheader", { name: column })).toBeInTheDocument();
    }
    expect(screen.getByRole("link", { name: "Create Case" })).toHaveAttribute("href", "/cases/new");
  });

  it("test_next_and_previous_page_through_cursors_in_the_url", async () => {
    logIn();
    listApi((cursor) => (cursor ? null : "c2"));
    renderPortal("/cases?status=all");
    await screen.findByRole("link", { name: "00000001" });
    expect(screen.queryByRole("button", { name: "Previous" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(window.location.search).toBe("?status=all&cursor=c2"));
    expect(await screen.findByRole("link", { name: "00000002" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Next" })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Previous" }));
    await waitFor(() => expect(window.location.search).toBe("?status=all"));
    expect(await screen.findByRole("link", { name: "00000001" })).toBeInTheDocument();
  });

  it("test_logged_out_visitor_is_sent_to_login", async () => {
    fakeApi({});
    renderPortal("/cases?status=open");
    expect(await screen.findByRole("heading", { name: "Login" })).toBeInTheDocument();
    expect(window.location.pathname).toBe("/login");
    expect(new URLSearchParams(window.location.search).get("next")).toBe("/cases?status=open");
  });
});
