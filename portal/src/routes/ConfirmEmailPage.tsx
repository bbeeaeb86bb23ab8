import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { ProblemMessage } from "../components/ProblemMessage";
import { session } from "../session/session";

export default function ConfirmEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const sent = useRef(false);
  const confirm = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/identity/email-confirmations", { body: { token } })),
    // A logged-in person's token still says "not verified": a refresh picks up the confirmed address.
    onSuccess: () => {
      if (session.getSnapshot().status === "authenticated") void session.refresh();
    },
  });
  const { mutate } = confirm;

  useEffect(() => {
    // Once per page, even under StrictMode's double effects: the token is single-use.
    if (sent.current || !token) return;
    sent.current = true;
    mutate();
  }, [token, mutate]);

  return (
    <section className="narrow">
      <h1>Confirm your email</h1>
      {!token && <p role="alert">This link has no token. Open the link from the email again.</p>}
      {confirm.isPending && <p role="status">Confirming…</p>}
      {confirm.isSuccess && (
        <p role="status" className="success">
          Your email address is confirmed.
        </p>
      )}
      <ProblemMessage problem={confirm.isError ? problemOf(confirm.error) : null} />
      {(confirm.isSuccess || confirm.isError || !token) && (
        <p>
          <Link to="/login">Login</Link>
        </p>
      )}
    </section>
  );
}
