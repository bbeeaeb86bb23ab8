import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

export function useCase(caseId: string) {
  return useQuery({
    queryKey: ["case", caseId],
    queryFn: async () =>
      unwrap(await api.GET("/api/cases/{case_id}", { params: { path: { case_id: caseId } } })),
  });
}

export function useActivity(caseId: string) {
  return useQuery({
    queryKey: ["activity", caseId],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/notifications/cases/{case_id}/activity", {
          params: { path: { case_id: caseId } },
        }),
      ),
    // Emails are written a moment after the case changes: look again while the page is open.
    refetchInterval: 15_000,
  });
}
