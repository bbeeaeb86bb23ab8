import { useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

const PAUSE_MS = 400;

/**
 * Why a display name cannot be had (taken, or a rule it breaks), asked of identity while the person types, after a
 * short pause; null while it is available or not yet known. The sign-up answer still decides (a 409 beside the field).
 */
export function useDisplayNameCheck(displayName: string, current?: string): string | null {
  const [settled, setSettled] = useState(displayName.trim());
  useEffect(() => {
    const handle = window.setTimeout(() => setSettled(displayName.trim()), PAUSE_MS);
    return () => window.clearTimeout(handle);
  }, [displayName]);
  const ask = settled !== "" && settled === displayName.trim() && settled !== current;
  const check = useQuery({
    queryKey: ["display-name-availability", settled],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/identity/display-names/availability", {
          params: { query: { display_name: settled } },
        }),
      ),
    enabled: ask,
    staleTime: 30_000,
    retry: false,
  });
  if (!ask || !check.data || check.data.available) return null;
  return check.data.reason ?? "This display name is not available.";
}
