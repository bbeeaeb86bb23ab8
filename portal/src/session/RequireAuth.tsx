import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useSession } from "./useSession";

/** Private pages: while the session starts show nothing; logged out, go to the login page and come back after. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === "starting") return <p className="loading">Loading…</p>;
  if (status === "anonymous") {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
