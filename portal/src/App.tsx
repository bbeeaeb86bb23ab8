import { lazy, Suspense, useEffect, useRef } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { Header } from "./components/Header";
import { RequireAuth } from "./session/RequireAuth";
import { landingPath } from "./session/landing";
import { useMe, useSession } from "./session/useSession";
// The pages a logged-out visitor meets are small and in the first bundle: a lazy chunk would leave the previous
// page's fields on screen while it loads, and what is typed there would be lost. The private pages load on demand
// (and are fetched ahead once someone is logged in).
import CheckEmailPage from "./routes/CheckEmailPage";
import ConfirmEmailPage from "./routes/ConfirmEmailPage";
import ForgotPasswordPage from "./routes/ForgotPasswordPage";
import LoginPage from "./routes/LoginPage";
import NotFoundPage from "./routes/NotFoundPage";
import ResetPasswordPage from "./routes/ResetPasswordPage";
import SignUpPage from "./routes/SignUpPage";
import TermsPage from "./routes/TermsPage";

const privatePages = {
  settings: () => import("./routes/SettingsPage"),
  myCases: () => import("./routes/MyCasesPage"),
  newCase: () => import("./routes/NewCasePage"),
  case: () => import("./routes/CasePage"),
  caseByNumber: () => import("./routes/CaseByNumberPage"),
  activityMessage: () => import("./routes/ActivityMessagePage"),
  queue: () => import("./agent/QueuePage"),
  users: () => import("./agent/UsersPage"),
};
const SettingsPage = lazy(privatePages.settings);
const MyCasesPage = lazy(privatePages.myCases);
const NewCasePage = lazy(privatePages.newCase);
const CasePage = lazy(privatePages.case);
const CaseByNumberPage = lazy(privatePages.caseByNumber);
const ActivityMessagePage = lazy(privatePages.activityMessage);
const QueuePage = lazy(privatePages.queue);
const UsersPage = lazy(privatePages.users);

function usePrefetchPrivatePages() {
  const { status } = useSession();
  useEffect(() => {
    // Under Vitest a prefetch would still be loading modules when a short test tears its environment down.
    if (status !== "authenticated" || import.meta.env.MODE === "test") return;
    const handle = window.setTimeout(() => {
      for (const load of Object.values(privatePages)) void load();
    }, 200);
    return () => window.clearTimeout(handle);
  }, [status]);
}

/** "/": the login page when logged out; logged in, the landing page of their role (Queue or My Cases). */
function Home() {
  const { status } = useSession();
  const me = useMe();
  if (status === "starting") return <p className="loading">Loading…</p>;
  if (status === "anonymous") return <Navigate to="/login" replace />;
  if (me.isPending && me.fetchStatus !== "idle") return <p className="loading">Loading…</p>;
  return <Navigate to={landingPath(me.data?.role)} replace />;
}

function Private({ children }: { children: React.ReactNode }) {
  return <RequireAuth>{children}</RequireAuth>;
}

/** After an in-app navigation, focus goes to the new page (as a page load would), not stay on the old link. */
function useFocusOnNavigation() {
  const { pathname } = useLocation();
  const previous = useRef(pathname);
  useEffect(() => {
    if (previous.current === pathname) return;
    previous.current = pathname;
    document.getElementById("main")?.focus({ preventScroll: false });
  }, [pathname]);
}

export function App() {
  usePrefetchPrivatePages();
  useFocusOnNavigation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/signup" element={<SignUpPage />} />
            <Route path="/signup/check-email" element={<CheckEmailPage />} />
            <Route path="/confirm-email" element={<ConfirmEmailPage />} />
            <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route path="/terms" element={<TermsPage />} />
            <Route
              path="/settings"
              element={
                <Private>
                  <SettingsPage />
                </Private>
              }
            />
            <Route
              path="/cases"
              element={
                <Private>
                  <MyCasesPage />
                </Private>
              }
            />
            <Route
              path="/cases/new"
              element={
                <Private>
                  <NewCasePage />
                </Private>
              }
            />
            <Route
              path="/cases/by-number/:number"
              element={
                <Private>
                  <CaseByNumberPage />
                </Private>
              }
            />
            <Route
              path="/cases/:caseId"
              element={
                <Private>
                  <CasePage />
                </Private>
              }
            />
            <Route
              path="/cases/:caseId/activity/:messageId"
              element={
                <Private>
                  <ActivityMessagePage />
                </Private>
              }
            />
            <Route
              path="/queue"
              element={
                <Private>
                  <QueuePage />
                </Private>
              }
            />
            <Route
              path="/users"
              element={
                <Private>
                  <UsersPage />
                </Private>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
