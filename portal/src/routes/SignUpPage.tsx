import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useExclusive } from "../hooks/useExclusive";
import { useDisplayNameCheck } from "../hooks/useDisplayNameCheck";

export default function SignUpPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [terms, setTerms] = useState(false);
  const navigate = useNavigate();
  const nameCheck = useDisplayNameCheck(displayName);
  const signUp = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/identity/users", {
          body: { email, password, display_name: displayName, accept_terms: terms },
        }),
      ),
    onSuccess: () => navigate(`/signup/check-email?email=${encodeURIComponent(email)}`),
  });
  const exclusive = useExclusive();
  const problem = signUp.isError ? problemOf(signUp.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    exclusive(() => signUp.mutateAsync());
  }

  return (
    <section className="narrow">
      <h1>Sign Up</h1>
      <form onSubmit={onSubmit} noValidate>
        <ProblemMessage problem={problem} />
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problem?.fields.email}
          required
        />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.password}
          required
        />
        <Field
          label="Display name"
          autoComplete="nickname"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={problem?.fields.display_name ?? nameCheck ?? undefined}
          hint="Shown to support agents on your cases; it must be unique."
          required
        />
        <div className="field checkbox">
          <input
            id="accept-terms"
            type="checkbox"
            checked={terms}
            onChange={(e) => setTerms(e.target.checked)}
            aria-describedby={problem?.fields.accept_terms ? "accept-terms-error" : undefined}
          />
          <label htmlFor="accept-terms">
            I accept the{" "}
            <Link to="/terms" target="_blank">
              Terms
            </Link>
          </label>
          {problem?.fields.accept_terms && (
            <p className="field-error" id="accept-terms-error">
              {problem.fields.accept_terms}
            </p>
          )}
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={signUp.isPending}>
            Sign Up
          </button>
        </div>
      </form>
      <p>
        Already a member? <Link to="/login">Login</Link>
      </p>
    </section>
  );
}
