import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

/** A case id as the API gives it; anything else in a case page's address is no case (never sent to the API). */
export const CASE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A case number as the emails and lists show it ("00001042" or "1042"). */
export const CASE_NUMBER_PATTERN = /^[0-9]{1,12}$/;

export function useCase(caseId: string, enabled = true) {
  return useQuery({
    enabled,
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
