import { DUE_SOON_HOURS } from "./queueQuery";
import { describe, expect, it } from "vitest";
import {
  formatSpan,
  formatWorkingTime,
  pausedWithBudget,
  readDeadline,
  readFirstResponse,
  readQueueSla,
  readResolution,
} from "./sla";

const NOW = Date.parse("2026-12-01T10:00:00Z");
const later = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const SLA = {
  first_response_due_at: later(3600),
  first_responded_at: null,
  first_response_breached: false,
  resolution_due_at: later(4 * 3600),
  resolution_paused: false,
  resolution_remaining_seconds: null,
  resolution_breached: false,
};

describe("SLA countdowns", () => {
  it("test_spans_read_in_the_two_largest_units", () => {
    expect(formatSpan(30)).toBe("less than 1 min");
    expect(formatSpan(59 * 60 + 59)).toBe("59 min");
    expect(formatSpan(3600)).toBe("1 h");
    expect(formatSpan(2 * 3600 + 5 * 60 + 9)).toBe("2 h 5 min");
    expect(formatSpan(86_400 * 3 + 3600 * 4)).toBe("3 d 4 h");
    expect(formatSpan(-5)).toBe("less than 1 min");
  });

  it("test_a_running_deadline_warns_within_the_queues_due_soon_window", () => {
    expect(readDeadline(later(5 * 3600), false, NOW)).toEqual({ text: "5 h left", tone: "ok" });
    expect(readDeadline(later(DUE_SOON_HOURS * 3600), false, NOW)).toEqual({
      text: `${DUE_SOON_HOURS} h left`,
      tone: "soon",
    });
    expect(readDeadline(later(3 * 3600), false, NOW)).toEqual({ text: "3 h left", tone: "soon" });
    expect(readDeadline(later(20 * 60), false, NOW)).toEqual({ text: "20 min left", tone: "soon" });
  });

  it("test_breached_is_the_services_word_not_the_browsers_clock", () => {
    expect(readDeadline(later(3600), true, NOW).text).toBe("Breached");
    expect(readDeadline(later(-60), false, NOW)).toEqual({ text: "Due now", tone: "soon" });
  });

  it("test_first_response_stops_when_answered", () => {
    expect(readFirstResponse(SLA, NOW).text).toBe("1 h left");
    expect(readFirstResponse({ ...SLA, first_responded_at: later(-10) }, NOW).text).toBe(
      "Answered",
    );
    expect(
      readFirstResponse(
        { ...SLA, first_responded_at: later(-10), first_response_breached: true },
        NOW,
      ).text,
    ).toBe("Answered late");
  });

  it("test_resolution_pauses_with_what_was_left_while_waiting_on_the_customer", () => {
    expect(readResolution(SLA, NOW).text).toBe("4 h left");
    const paused = {
      ...SLA,
      resolution_due_at: null,
      resolution_paused: true,
      resolution_remaining_seconds: 5400,
    };
    expect(readResolution(paused, NOW)).toEqual({
      text: "Paused: 1 h 30 min of working time left",
      tone: "paused",
    });
    expect(readResolution({ ...paused, resolution_breached: true }, NOW).text).toBe("Breached");
    expect(readResolution({ ...paused, resolution_remaining_seconds: null }, NOW).text).toBe(
      "Paused",
    );
  });

  it("test_a_paused_clocks_working_time_is_never_read_as_wall_days", () => {
    // A severity-3 case paused with 5 of its business days left: 40 business hours (8 h a day), not "1 d 16 h".
    const paused = {
      ...SLA,
      resolution_due_at: null,
      resolution_paused: true,
      resolution_remaining_seconds: 40 * 3600,
    };
    expect(readResolution(paused, NOW).text).toBe("Paused: 40 h of working time left");
    expect(readResolution(paused, NOW).text).not.toMatch(/\bd\b/);
    expect(formatWorkingTime(40 * 3600)).toBe("40 h");
    expect(formatWorkingTime(100 * 3600 + 15 * 60)).toBe("100 h 15 min");
    expect(formatWorkingTime(45 * 60)).toBe("45 min");
    expect(formatWorkingTime(20)).toBe("less than 1 min");
    // A running countdown stays wall-clock time to its deadline, in days when it is that far.
    expect(formatSpan(40 * 3600)).toBe("1 d 16 h");
    expect(pausedWithBudget(paused)).toBe(true);
    expect(pausedWithBudget(SLA)).toBe(false);
    expect(pausedWithBudget({ ...paused, resolution_breached: true })).toBe(false);
  });

  it("test_the_queue_cell_shows_breached_time_left_or_paused", () => {
    expect(
      readQueueSla({ breached: true, next_deadline_at: later(60), waiting_on: "support" }, NOW)
        .text,
    ).toBe("Breached");
    expect(
      readQueueSla({ breached: false, next_deadline_at: later(7200), waiting_on: "support" }, NOW)
        .text,
    ).toBe("2 h left");
    expect(
      readQueueSla({ breached: false, next_deadline_at: null, waiting_on: "customer" }, NOW).text,
    ).toBe("Paused");
  });
});
