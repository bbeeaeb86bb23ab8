import type { SlaView as Sla } from "./api";
import { DUE_SOON_HOURS } from "./queueQuery";

/**
 * How the SLA clocks read: "2 h 5 min left", "Breached", "Paused: 40 h of working time left".
 *
 * Two kinds of time. A running clock has a deadline, and its countdown is wall-clock time to it (nights and weekends
 * included), so days of 24 h are right. A paused clock has no deadline: the cases service freezes the *working time*
 * that was left, counted in the hours its SLA target counts: business hours for a business-hours target (a business
 * day is the length of CASES_SLA_BUSINESS_HOURS, 8 h by default), every hour for a target that runs around the
 * clock. The API does not say which, and the length of a business day is the service's setting, so working time is
 * shown in hours and minutes, never in days: 40 business hours are "40 h of working time", not "1 d 16 h".
 */

/** A span of seconds in words a person reads at a glance: days and hours, hours and minutes, or minutes. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  return formatWorkingTime(s);
}

/** Working time (a paused clock's budget) in hours and minutes: "40 h", "2 h 30 min", "45 min". */
export function formatWorkingTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return `${minutes} min`;
  return "less than 1 min";
}

/** What "working time" means, for the reader of a paused clock. */
export const WORKING_TIME_NOTE =
  "Working time counts the hours of the case's SLA target: business hours, or every hour for a target around the clock. The deadline comes back when the clock runs again.";

export type ClockTone = "ok" | "soon" | "breached" | "paused" | "done";

export interface ClockReading {
  text: string;
  tone: ClockTone;
}

// A deadline turns amber when the Queue's "Due soon" filter would list it: one window, one meaning.
const SOON_SECONDS = DUE_SOON_HOURS * 3600;

/**
 * A running deadline read against now. Whether it is breached is the service's word (its clock is the one that
 * counts; a browser's clock may differ): a deadline the browser thinks has passed, not yet breached there, is due now.
 */
export function readDeadline(dueAt: string, breached: boolean, now: number): ClockReading {
  if (breached) return { text: "Breached", tone: "breached" };
  const left = (Date.parse(dueAt) - now) / 1000;
  if (Number.isNaN(left)) return { text: "", tone: "ok" };
  if (left <= 0) return { text: "Due now", tone: "soon" };
  return { text: `${formatSpan(left)} left`, tone: left <= SOON_SECONDS ? "soon" : "ok" };
}

export function readFirstResponse(sla: Sla, now: number): ClockReading {
  if (sla.first_responded_at)
    return { text: sla.first_response_breached ? "Answered late" : "Answered", tone: "done" };
  if (sla.first_response_due_at)
    return readDeadline(sla.first_response_due_at, sla.first_response_breached, now);
  return sla.first_response_breached
    ? { text: "Breached", tone: "breached" }
    : { text: "No target", tone: "done" };
}

/** Whether the resolution clock reads as paused with working time left (what WORKING_TIME_NOTE explains). */
export function pausedWithBudget(sla: Sla): boolean {
  return (
    !sla.resolution_breached && sla.resolution_paused && sla.resolution_remaining_seconds !== null
  );
}

export function readResolution(sla: Sla, now: number): ClockReading {
  if (sla.resolution_breached) return { text: "Breached", tone: "breached" };
  if (sla.resolution_paused) {
    const left = sla.resolution_remaining_seconds;
    return {
      text: left === null ? "Paused" : `Paused: ${formatWorkingTime(left)} of working time left`,
      tone: "paused",
    };
  }
  if (sla.resolution_due_at) return readDeadline(sla.resolution_due_at, false, now);
  return { text: "No target", tone: "done" };
}

/** The queue's SLA cell: breached, the time to the next running deadline, or paused while waiting on the customer. */
export function readQueueSla(
  item: { breached: boolean; next_deadline_at: string | null; waiting_on: string | null },
  now: number,
): ClockReading {
  if (item.breached) return { text: "Breached", tone: "breached" };
  if (item.next_deadline_at) return readDeadline(item.next_deadline_at, false, now);
  if (item.waiting_on === "customer") return { text: "Paused", tone: "paused" };
  return { text: "", tone: "done" };
}
