import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap, type ProblemView } from "../api/problem";
import { Field } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useDisplayNameCheck } from "../hooks/useDisplayNameCheck";
import { meKey, useMe } from "../session/useSession";

function SettingsForm(props: {
  title: string;
  problem: ProblemView | null;
  pending: boolean;
  done: string | null;
  onSubmit: () => void;
  children: ReactNode;
}) {
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!props.pending) props.onSubmit();
  }
  return (
    // Unnamed on purpose: a section or form named "Display name" would also answer to that label, beside its field.
    <section className="panel">
      <h2>{props.title}</h2>
      <form onSubmit={submit} noValidate>
        <ProblemMessage problem={props.problem} />
        {props.children}
        <div className="actions">
          <button type="submit" className="primary" disabled={props.pending}>
            Save
          </button>
        </div>
        {props.done && (
          <p role="status" className="success">
            {props.done}
          </p>
        )}
      </form>
    </section>
  );
}

function DisplayNameForm({ current }: { current: string }) {
  const [name, setName] = useState(current);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async () =>
      unwrap(await api.PATCH("/api/identity/me", { body: { display_name: name } })),
    onSuccess: (user) => queryClient.setQueryData(meKey, user),
  });
  const problem = save.isError ? problemOf(save.error) : null;
  const nameCheck = useDisplayNameCheck(name, current);
  return (
    <SettingsForm
      title="Profile"
      problem={problem}
      pending={save.isPending}
      done={save.isSuccess ? "Your display name is saved." : null}
      onSubmit={() => save.mutate()}
    >
      <Field
        label="Display name"
        autoComplete="nickname"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={problem?.fields.display_name ?? nameCheck ?? undefined}
        required
      />
    </SettingsForm>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/identity/me/password", {
          body: { current_password: current, new_password: next },
        }),
      ),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  const problem = save.isError ? problemOf(save.error) : null;
  return (
    <SettingsForm
      title="Password"
      problem={problem}
      pending={save.isPending}
      done={save.isSuccess ? "Your password is changed." : null}
      onSubmit={() => save.mutate()}
    >
      <Field
        label="Current password"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={problem?.fields.current_password}
        required
      />
      <Field
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={problem?.fields.new_password}
        required
      />
    </SettingsForm>
  );
}

function EmailForm({ email, pending }: { email: string; pending: string | null | undefined }) {
  const [newEmail, setNewEmail] = useState("");
  const [password, setPassword] = useState("");
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/identity/me/email", {
          body: { new_email: newEmail, current_password: password },
        }),
      ),
    onSuccess: () => {
      setPassword("");
      void queryClient.invalidateQueries({ queryKey: meKey });
    },
  });
  const problem = save.isError ? problemOf(save.error) : null;
  return (
    <SettingsForm
      title="Email address"
      problem={problem}
      pending={save.isPending}
      done={
        save.isSuccess
          ? `We sent a confirmation link to ${newEmail}. Open it to finish the change.`
          : null
      }
      onSubmit={() => save.mutate()}
    >
      <p>
        Your email address is <strong>{email}</strong>.
        {pending && ` A change to ${pending} waits for its confirmation link.`}
      </p>
      <Field
        label="New email"
        type="email"
        autoComplete="email"
        value={newEmail}
        onChange={(e) => setNewEmail(e.target.value)}
        error={problem?.fields.new_email}
        required
      />
      <Field
        label="Your password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={problem?.fields.current_password}
        required
      />
    </SettingsForm>
  );
}

export default function SettingsPage() {
  const me = useMe();
  if (me.isError) return <ProblemMessage problem={problemOf(me.error)} />;
  if (!me.data) return <p className="loading">Loading…</p>;
  return (
    <section className="narrow">
      <h1>Settings</h1>
      <DisplayNameForm current={me.data.display_name} />
      <PasswordForm />
      <EmailForm email={me.data.email} pending={me.data.pending_email} />
    </section>
  );
}
