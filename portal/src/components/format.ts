// With the time zone's name: agents and customers in different places read the same SLA deadline and reply times.
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
});

/** A moment in the reader's time zone, named: "Dec 2, 2026, 4:13 AM GMT+1". */
export function formatTime(value: string | null | undefined): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTime.format(date);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function statusLabel(status: string): string {
  return status === "closed" ? "Closed" : status === "open" ? "Open" : status;
}

const countFormat = new Intl.NumberFormat("en-US");

/** A count as a tab shows it: "1,234"; one that stopped at the service's cap, "10,000+" (there are more). */
export function formatCount(count: number, capped = false): string {
  return `${countFormat.format(count)}${capped ? "+" : ""}`;
}
