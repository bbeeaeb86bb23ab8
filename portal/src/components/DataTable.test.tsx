import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ProblemError, toProblem } from "../api/problem";
import { DataTable, listSource, pageSource, type Column, type TableSource } from "./DataTable";

interface Fruit {
  id: string;
  name: string;
  ripe: boolean;
}

const COLUMNS: Column<Fruit>[] = [
  { header: "Name", cell: (f) => <strong>{f.name}</strong> },
  { header: "Ripe", cell: (f) => (f.ripe ? "Yes" : "No") },
];
const FRUIT: Fruit[] = [
  { id: "a", name: "Apple", ripe: true },
  { id: "b", name: "Banana", ripe: false },
];

function table(source: TableSource<Fruit>, extra: Partial<Parameters<typeof DataTable>[0]> = {}) {
  return render(
    <DataTable<Fruit>
      caption="Fruit in stock"
      className="fruit"
      columns={COLUMNS}
      source={source}
      rowKey={(f) => f.id}
      rowClassName={(f) => (f.ripe ? undefined : "unripe")}
      empty="No fruit today."
      {...(extra as object)}
    />,
  );
}

const loaded = (rows: Fruit[]): TableSource<Fruit> => ({ rows, loading: false, error: null });

describe("DataTable", () => {
  it("test_columns_become_headers_and_each_cell_is_named_by_its_column", () => {
    table(loaded(FRUIT));
    const grid = screen.getByRole("table", { name: "Fruit in stock" });
    expect(grid).toHaveClass("fruit");
    expect(
      within(grid)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Name", "Ripe"]);
    const rows = within(grid).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(2);
    const cells = within(rows[1]!).getAllByRole("cell");
    expect(cells.map((c) => c.getAttribute("data-label"))).toEqual(["Name", "Ripe"]);
    expect(cells.map((c) => c.textContent)).toEqual(["Banana", "No"]);
    expect(rows[1]).toHaveClass("unripe");
    expect(rows[0]).not.toHaveClass("unripe");
  });

  it("test_no_rows_shows_the_empty_state_and_no_table", () => {
    table(loaded([]));
    expect(screen.getByText("No fruit today.")).toHaveClass("empty");
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("test_before_the_first_answer_it_says_loading_and_shows_neither_table_nor_empty_state", () => {
    table({ rows: undefined, loading: true, error: null });
    expect(screen.getByText("Loading…")).toBeInTheDocument();
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
    expect(screen.queryByText("No fruit today.")).not.toBeInTheDocument();
  });

  it("test_a_failure_shows_the_problem_in_words", () => {
    const error = new ProblemError(
      toProblem({ status: 503, title: "Unavailable", detail: "The fruit service is down." }),
    );
    table({ rows: undefined, loading: false, error });
    expect(screen.getByRole("alert")).toHaveTextContent("The fruit service is down.");
  });

  it("test_the_previous_rows_stay_while_the_next_page_loads_and_the_table_says_it_is_busy", () => {
    table({ ...loaded(FRUIT), stale: true });
    expect(screen.getByRole("table")).toHaveAttribute("aria-busy", "true");
  });

  it("test_the_pager_moves_on_with_the_cursors_kept_for_previous", async () => {
    const go = vi.fn();
    table(loaded(FRUIT), { pager: { cursor: "c2", nextCursor: "c3", prev: [null], go } });
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(go).toHaveBeenCalledWith("c3", [null, "c2"]);
    await userEvent.click(screen.getByRole("button", { name: "Previous" }));
    expect(go).toHaveBeenLastCalledWith(null, []);
  });

  it("test_without_a_pager_there_are_no_paging_buttons", () => {
    table(loaded(FRUIT));
    expect(screen.queryByRole("button", { name: "Next" })).not.toBeInTheDocument();
  });
});

describe("Table sources from queries", () => {
  it("test_a_page_query_gives_its_items_and_a_failed_one_its_error", () => {
    const ok = pageSource({
      data: { items: FRUIT },
      isPending: false,
      isError: false,
      error: null,
      isPlaceholderData: true,
    });
    expect(ok).toEqual({ rows: FRUIT, loading: false, error: null, stale: true });
    const failed = listSource<Fruit>({
      data: undefined,
      isPending: false,
      isError: true,
      error: new Error("boom"),
    });
    expect(failed.rows).toBeUndefined();
    expect(failed.error).toBeInstanceOf(Error);
  });
});
