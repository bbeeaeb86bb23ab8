import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";

export default function CheckEmailPage() {
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get("email") ?? "");
  const resend = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/identity/email-confirmations/resend", { body: { email } })),
  });

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!resend.isPending) resend.mutate();
  }

  return (
    <section className="narrow">
      <h1>Check your email</h1>
      <p>
        We sent a confirmation link to your email address. Open it to confirm the address, then log
        in.
      </p>
      <form onSubmit={onSubmit} noValidate>
        <ProblemMessage problem={resend.isError ? problemOf(resend.error) : null} />
        <Field
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
        />
        <div className="actions">
          <button type="submit" disabled={resend.isPending}>
            Resend
          </button>
        </div>
        {resend.isSuccess && (
          <p role="status" className="success">
            If that address has an account waiting for confirmation, a new link is on its way.
          </p>
        )}
      </form>
    </section>
  );
}
