import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";

export default function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const send = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/identity/password-resets", { body: { email } })),
  });
  const problem = send.isError ? problemOf(send.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!send.isPending) send.mutate();
  }

  return (
    <section className="narrow">
      <h1>Forgot password?</h1>
      <p>Give the email address of your account: we send it a link to choose a new password.</p>
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
        <div className="actions">
          <button type="submit" className="primary" disabled={send.isPending}>
            Send
          </button>
          <Link to="/login">Login</Link>
        </div>
        {send.isSuccess && (
          <p role="status" className="success">
            If that address has an account, a link to reset the password is on its way. It works
            once and for a limited time.
          </p>
        )}
      </form>
    </section>
  );
}
