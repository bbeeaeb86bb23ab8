import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";

export default function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/identity/password-resets/confirm", {
          body: { token, new_password: password },
        }),
      ),
  });
  const problem = save.isError ? problemOf(save.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!save.isPending) save.mutate();
  }

  if (save.isSuccess) {
    return (
      <section className="narrow">
        <h1>Password changed</h1>
        <p role="status" className="success">
          Your password is changed and every other session is logged out.
        </p>
        <p>
          <Link to="/login">Login</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="narrow">
      <h1>Choose a new password</h1>
      {!token && <p role="alert">This link has no token. Open the link from the email again.</p>}
      <form onSubmit={onSubmit} noValidate>
        <ProblemMessage problem={problem} />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem?.fields.new_password}
          required
        />
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending || !token}>
            Save
          </button>
        </div>
      </form>
      {problem && !problem.fields.new_password && (
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      )}
    </section>
  );
}
