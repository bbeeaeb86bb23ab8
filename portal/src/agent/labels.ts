/** "Waiting on support", "Waiting on customer" or "Closed": the agents' name for where a case stands. */
export function waitingLabel(status: string, waitingOn: string | null | undefined): string {
  if (status === "closed") return "Closed";
  if (waitingOn === "customer") return "Waiting on customer";
  return "Waiting on support";
}
