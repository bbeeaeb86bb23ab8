import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

/** The All / Open / Closed counts over the caller's cases, with the same subject search as the list. */
export function useCaseCounts(q: string) {
  const counts = useQuery({
    queryKey: ["cases", "counts", q],
    queryFn: async () =>
      unwrap(await api.GET("/api/cases/counts", { params: { query: q ? { q } : {} } })),
  });
  return counts.data;
}
