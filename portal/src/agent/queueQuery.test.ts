import { describe, expect, it } from "vitest";
import {
  DEFAULT_QUEUE,
  DUE_SOON_HOURS,
  queueApiQuery,
  queueHref,
  readQueueQuery,
  writeQueueQuery,
} from "./queueQuery";

describe("queue filters in the URL", () => {
  it("test_a_plain_queue_url_is_the_default_view_sorted_by_urgency", () => {
    expect(readQueueQuery(new URLSearchParams(""))).toEqual(DEFAULT_QUEUE);
    expect(writeQueueQuery(DEFAULT_QUEUE).toString()).toBe("");
    expect(DEFAULT_QUEUE.sort).toBe("urgency");
  });

  it("test_every_filter_survives_a_round_trip_through_the_url", () => {
    const query = {
      status: "waiting_on_customer" as const,
      assignee: "unassigned" as const,
      prioritised: true,
      severity: "2" as const,
      product: "db",
      sla: "breached" as const,
      q: "disk full",
      sort: "last_activity" as const,
      cursor: "abc",
    };
    expect(readQueueQuery(writeQueueQuery(query))).toEqual(query);
  });

  it("test_unknown_values_fall_back_to_the_defaults", () => {
    const read = readQueueQuery(
      new URLSearchParams("status=pending&assignee=bob&severity=7&sla=late&sort=x&prioritised=yes"),
    );
    expect(read).toEqual(DEFAULT_QUEUE);
  });

  it("test_changing_a_filter_goes_back_to_the_first_page", () => {
    const on = readQueueQuery(new URLSearchParams("assignee=me&cursor=p2"));
    expect(queueHref(on, { sla: "due_soon" })).toBe("?assignee=me&sla=due_soon");
    expect(queueHref(on, { assignee: "anyone" })).toBe("?");
  });

  it("test_the_api_query_names_status_assignee_and_sort_always_and_the_rest_when_set", () => {
    expect(queueApiQuery(DEFAULT_QUEUE)).toEqual({
      status: "open",
      assignee: "anyone",
      sort: "urgency",
      limit: 20,
    });
    const api = queueApiQuery(
      readQueueQuery(new URLSearchParams("prioritised=true&severity=1&q=down&sla=due_soon")),
    );
    expect(api).toMatchObject({ prioritised: true, severity: 1, q: "down", sla: "due_soon" });
    // The window the filter's hint names is the one asked for, not the service's default.
    expect(api.due_within_hours).toBe(DUE_SOON_HOURS);
    expect(queueApiQuery({ ...DEFAULT_QUEUE, sla: "breached" })).not.toHaveProperty(
      "due_within_hours",
    );
  });
});
