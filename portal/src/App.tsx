import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Header } from "./components/Header";
import { RequireAuth } from "./session/RequireAuth";
import { useSession } from "./session/useSession";
import LoginPage from "./routes/LoginPage";

const SignUpPage = lazy(() => import("./routes/SignUpPage"));
const CheckEmailPage = lazy(() => import("./routes/CheckEmailPage"));
const ConfirmEmailPage = lazy(() => import("./routes/ConfirmEmailPage"));
const ForgotPasswordPage = lazy(() => import("./routes/ForgotPasswordPage"));
const ResetPasswordPage = lazy(() => import("./routes/ResetPasswordPage"));
const TermsPage = lazy(() => import("./routes/TermsPage"));
const SettingsPage = lazy(() => import("./routes/SettingsPage"));
const MyCasesPage = lazy(() => import("./routes/MyCasesPage"));
const NewCasePage = lazy(() => import("./routes/NewCasePage"));
const CasePage = lazy(() => import("./routes/CasePage"));
const CaseByNumberPage = lazy(() => import("./routes/CaseByNumberPage"));
const ActivityMessagePage = lazy(() => import("./routes/ActivityMessagePage"));
const NotFoundPage = lazy(() => import("./routes/NotFoundPage"));

function Home() {
  const { status } = useSession();
  if (status === "starting") return <p className="loading">Loading…</p>;
  return <Navigate to={status === "authenticated" ? "/cases" : "/login"} replace />;
}

function Private({ children }: { children: React.ReactNode }) {
  return <RequireAuth>{children}</RequireAuth>;
}

export function App() {
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
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
