import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useExclusive } from "../hooks/useExclusive";
import { safeNext } from "../session/landing";
import { session } from "../session/session";

export default function LoginPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const login = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/identity/sessions", { body: { email, password } })),
    onSuccess: (pair) => {
      queryClient.clear();
      session.accept(pair);
      // A page they asked for wins; otherwise "/" sends them to their role's landing page once it is known.
      navigate(safeNext(params.get("next")) ?? "/", { replace: true });
    },
  });
  const exclusive = useExclusive();
  const problem = login.isError ? problemOf(login.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    exclusive(() => login.mutateAsync());
  }

  return (
    <section className="narrow">
      <h1>Login</h1>
      <form onSubmit={onSubmit} noValidate>
        <ProblemMessage problem={problem} />
        <Field
          label="Email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problem?.fields.email}
          required
        />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.password}
          required
        />
        <div className="actions">
          <button type="submit" className="primary" disabled={login.isPending}>
            Login
          </button>
          <Link to="/forgot-password">Forgot password?</Link>
        </div>
      </form>
      <p>
        <Link to="/signup">Not a member?</Link>
      </p>
    </section>
  );
}
