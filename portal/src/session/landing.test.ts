import { describe, expect, it } from "vitest";
import { landingPath, safeNext } from "./landing";

describe("Where someone lands after login", () => {
  it("test_the_support_team_lands_on_the_queue_and_customers_on_my_cases", () => {
    expect(landingPath("agent")).toBe("/queue");
    expect(landingPath("admin")).toBe("/queue");
    expect(landingPath("customer")).toBe("/cases");
    expect(landingPath(undefined)).toBe("/cases");
  });

  it("test_only_a_path_inside_the_portal_is_a_place_to_go_back_to", () => {
    expect(safeNext("/cases/42?tab=activity")).toBe("/cases/42?tab=activity");
    expect(safeNext("/queue?assignee=me")).toBe("/queue?assignee=me");
    expect(safeNext("//evil.example/cases")).toBeNull();
    expect(safeNext("/\\evil.example")).toBeNull();
    expect(safeNext("https://evil.example/")).toBeNull();
    expect(safeNext("")).toBeNull();
    expect(safeNext(null)).toBeNull();
  });
});
