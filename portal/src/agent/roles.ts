import { useEffect, useState } from "react";
import { useMe } from "../session/useSession";

export function isAgentRole(role: string | undefined): boolean {
  return role === "agent" || role === "admin";
}

/** The logged-in person's standing: agents and admins work the queue; admins also manage users. */
export function useRole() {
  const me = useMe();
  const role = me.data?.role;
  return {
    known: me.data !== undefined,
    failed: me.isError,
    error: me.error,
    isAgent: isAgentRole(role),
    isAdmin: role === "admin",
    me: me.data,
  };
}

/** Now, moving on every interval (the countdowns change while a page stays open). */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const handle = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(handle);
  }, [intervalMs]);
  return now;
}
