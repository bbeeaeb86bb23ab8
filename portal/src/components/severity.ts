import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

/** The severity levels with the cases service's names and descriptions (they change rarely: cached long). */
export function useSeverities() {
  return useQuery({
    queryKey: ["severities"],
    queryFn: async () => unwrap(await api.GET("/api/cases/severities")),
    staleTime: 60 * 60_000,
  });
}

/** "1 - Critical" once the levels are known, else the bare level. */
export function useSeverityName(): (level: number) => string {
  const levels = useSeverities().data;
  return (level) => {
    const found = levels?.find((s) => s.level === level);
    return found ? `${level} - ${found.name}` : String(level);
  };
}
