import { render } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { App } from "../App";
import { session } from "../session/session";

export const ME = {
  id: "11111111-1111-4111-8111-111111111111",
  email: "ada@example.com",
  display_name: "Ada",
  email_verified: true,
  role: "customer",
};

/** Log the in-memory session in, as after a successful login (no network). */
export function logIn() {
  session.accept({
    access_token: "token-1",
    refresh_token: "",
    token_type: "Bearer",
    expires_in: 900,
  });
}

/** The whole portal at a URL, with a fresh query cache; returns the cache for assertions. */
export function renderPortal(path: string) {
  window.history.replaceState(null, "", path);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  session.onLogout(() => queryClient.clear());
  const view = render(
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>,
  );
  return { ...view, queryClient };
}
