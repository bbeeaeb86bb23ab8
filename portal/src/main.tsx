import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App";
import { session } from "./session/session";
import { ProblemError } from "./api/problem";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx answer (404 for another's case, 422) will not change on a retry.
      retry: (count, error) =>
        count < 2 &&
        !(
          error instanceof ProblemError &&
          error.problem.status >= 400 &&
          error.problem.status < 500
        ),
      refetchOnWindowFocus: false,
    },
  },
});

// After logout nothing private may remain in memory for Back to show.
session.onLogout(() => queryClient.clear());
void session.start();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
