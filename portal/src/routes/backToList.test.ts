import { describe, expect, it } from "vitest";
import { backToList } from "./CasePage";

describe("Back to Cases List", () => {
  it("test_it_returns_to_the_list_the_case_was_opened_from_with_its_filters", () => {
    expect(backToList({ from: "/queue?assignee=me" }, true)).toBe("/queue?assignee=me");
    expect(backToList({ from: "/cases?status=closed" }, false)).toBe("/cases?status=closed");
  });

  it("test_without_a_list_to_return_to_an_agent_goes_to_the_queue_and_a_customer_to_my_cases", () => {
    expect(backToList(null, true)).toBe("/queue");
    expect(backToList(null, false)).toBe("/cases");
    expect(backToList({ from: "https://evil.example/" }, true)).toBe("/queue");
  });
});
