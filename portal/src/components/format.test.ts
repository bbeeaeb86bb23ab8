import { describe, expect, it } from "vitest";
import { formatCount, formatTime } from "./format";

describe("formatTime", () => {
  it("test_a_time_says_its_time_zone", () => {
    // The test runs in UTC unless TZ says otherwise; either way the zone is named, not left to guess.
    expect(formatTime("2026-12-02T03:13:00Z")).toMatch(/\d{1,2}:13.*(UTC|GMT)/);
  });

  it("test_nothing_or_a_non_date_is_shown_as_given", () => {
    expect(formatTime(null)).toBe("");
    expect(formatTime("soon")).toBe("soon");
  });
});

describe("formatCount", () => {
  it("test_a_count_has_thousands_separators_and_a_capped_one_a_plus", () => {
    expect(formatCount(7)).toBe("7");
    expect(formatCount(9999)).toBe("9,999");
    expect(formatCount(10000, true)).toBe("10,000+");
    expect(formatCount(20000, true)).toBe("20,000+");
    expect(formatCount(0, false)).toBe("0");
  });
});
