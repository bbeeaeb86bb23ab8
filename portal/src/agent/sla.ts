import type { SlaView as Sla } from "./api";

/** How the SLA clocks read: "2 h 5 min left", "Breached", "Paused (3 h left)". */

/** A span of seconds in words a person reads at a glance: days and hours, hours and minutes, or minutes. */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return `${minutes} min`;
  return "less than 1 min";
}

export type ClockTone = "ok" | "soon" | "breached" | "paused" | "done";

export interface ClockReading {
  text: string;
  tone: ClockTone;
}

const SOON_SECONDS = 3600;

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

export function readResolution(sla: Sla, now: number): ClockReading {
  if (sla.resolution_breached) return { text: "Breached", tone: "breached" };
  if (sla.resolution_paused) {
    const left = sla.resolution_remaining_seconds;
    return {
      text: left === null ? "Paused" : `Paused (${formatSpan(left)} left)`,
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
