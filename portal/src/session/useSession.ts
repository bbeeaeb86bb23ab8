import { useSyncExternalStore } from "react";
import { useQuery } from "@tanstack/react-query";
import { session } from "./session";
import { api } from "../api/client";
import { unwrap } from "../api/problem";

export function useSession() {
  return useSyncExternalStore(session.subscribe, session.getSnapshot);
}

export const meKey = ["me"] as const;

/** The logged-in user (display name, role); undefined while logged out or loading. */
export function useMe() {
  const { status } = useSession();
  return useQuery({
    queryKey: meKey,
    queryFn: async () => unwrap(await api.GET("/api/identity/me")),
    enabled: status === "authenticated",
    staleTime: 60_000,
  });
}
