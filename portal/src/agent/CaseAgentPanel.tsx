import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { problemOf, type ProblemView } from "../api/problem";
import { TextAreaField } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatTime } from "../components/format";
import { useSeverities, useSeverityName } from "../components/severity";
import { useExclusive } from "../hooks/useExclusive";
import { agentApi, type AgentCase, type SlaView, type WaitingOn } from "./api";
import { useNow } from "./roles";
import {
  pausedWithBudget,
  readFirstResponse,
  readResolution,
  WORKING_TIME_NOTE,
  type ClockReading,
} from "./sla";

/** A command on the case: its answer is the new case view, which replaces the cached one. */
function useCaseCommand<A>(caseId: string, run: (arg: A) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (view) => {
      if (view && typeof view === "object") queryClient.setQueryData(["case", caseId], view);
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
      void queryClient.invalidateQueries({ queryKey: ["queue"] });
    },
  });
}

function failure(m: { isError: boolean; error: unknown }): ProblemView | null {
  return m.isError ? problemOf(m.error) : null;
}

/** What agents and admins see and do on a case; customers are never given this component. */
export function CaseAgentPanel({ c, myId }: { c: AgentCase; myId: string | undefined }) {
  const closed = c.status === "closed";
  return (
    <div className="agent-panel">
      <CustomerPanel c={c} />
      {!closed && <AssignmentPanel c={c} myId={myId} />}
      {!closed && <WaitingPanel c={c} />}
      {c.sla && <SlaPanel sla={c.sla} />}
      {!closed && <SeverityPanel c={c} />}
    </div>
  );
}

function CustomerPanel({ c }: { c: AgentCase }) {
  const id = useId();
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>Customer</h2>
      {c.customer ? (
        <p className="customer">
          <strong>{c.customer.display_name ?? "Name not known yet"}</strong>
          <br />
          {c.customer.email && <a href={`mailto:${c.customer.email}`}>{c.customer.email}</a>}
        </p>
      ) : (
        <p className="muted">Not known yet.</p>
      )}
    </section>
  );
}

function AssignmentPanel({ c, myId }: { c: AgentCase; myId: string | undefined }) {
  const id = useId();
  const assigneeId = c.assignee?.id ?? "";
  const [chosen, setChosen] = useState(assigneeId);
  const [shownAssignee, setShownAssignee] = useState(assigneeId);
  // The case changed (here or in another tab): the menu follows it.
  if (shownAssignee !== assigneeId) {
    setShownAssignee(assigneeId);
    setChosen(assigneeId);
  }
  const agents = useQuery({
    queryKey: ["agents"],
    queryFn: () => agentApi.agents(),
    staleTime: 5 * 60_000,
  });
  const assign = useCaseCommand(c.id, (to: string | null) => agentApi.assign(c.id, to));
  const exclusive = useExclusive();
  const run = (to: string | null) => exclusive(() => assign.mutateAsync(to));

  function onAssign(event: FormEvent) {
    event.preventDefault();
    if (chosen && chosen !== assigneeId) run(chosen);
  }

  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>Assignee</h2>
      <p>
        {c.assignee ? (
          <>
            Assigned to <strong>{c.assignee.display_name ?? "an agent"}</strong>
            {c.assignee.id === myId && " (you)"}
          </>
        ) : (
          <em>Unassigned</em>
        )}
      </p>
      <ProblemMessage problem={failure(assign)} />
      <div className="actions">
        {myId && assigneeId !== myId && (
          <button
            type="button"
            className="primary"
            disabled={assign.isPending}
            onClick={() => run(myId)}
          >
            Assign to me
          </button>
        )}
        {c.assignee && (
          <button type="button" disabled={assign.isPending} onClick={() => run(null)}>
            Unassign
          </button>
        )}
      </div>
      <form className="inline-form" onSubmit={onAssign}>
        <div className="field">
          <label htmlFor={`${id}-menu`}>Assign to</label>
          <select id={`${id}-menu`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">{agents.isPending ? "Loading agents…" : "Choose an agent"}</option>
            {agents.data?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.display_name ?? "Agent"}
                {a.id === myId ? " (you)" : ""}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={assign.isPending || !chosen || chosen === assigneeId}>
          Assign
        </button>
      </form>
      {agents.isError && <ProblemMessage problem={problemOf(agents.error)} />}
    </section>
  );
}

function WaitingPanel({ c }: { c: AgentCase }) {
  const id = useId();
  const current: WaitingOn = c.waiting_on === "customer" ? "customer" : "support";
  const set = useCaseCommand(c.id, (to: WaitingOn) => agentApi.setWaiting(c.id, to));
  const exclusive = useExclusive();
  const options: { value: WaitingOn; label: string }[] = [
    { value: "support", label: "Waiting on support" },
    { value: "customer", label: "Waiting on customer" },
  ];
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>Waiting state</h2>
      <p>
        Now:{" "}
        <strong className="waiting-now">{options.find((o) => o.value === current)?.label}</strong>
      </p>
      <ProblemMessage problem={failure(set)} />
      <div className="segmented" role="group" aria-labelledby={id}>
        {options.map((o) => (
          <button
            key={o.value}
            type="button"
            aria-pressed={current === o.value}
            disabled={set.isPending}
            onClick={() => {
              if (o.value !== current) exclusive(() => set.mutateAsync(o.value));
            }}
          >
            {o.label}
          </button>
        ))}
      </div>
      <p className="hint">
        {current === "customer"
          ? "The resolution clock is paused. The customer's next comment puts the case back to waiting on support."
          : "Mark the case waiting on customer when you need their answer; the resolution clock pauses meanwhile."}
      </p>
    </section>
  );
}

function Clock({
  name,
  reading,
  due,
  answeredAt = null,
  note = null,
}: {
  name: string;
  reading: ClockReading;
  due: string | null;
  answeredAt?: string | null;
  note?: string | null;
}) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>
        <span className={`clock clock-${reading.tone}`}>{reading.text}</span>
        {due && reading.tone !== "done" && (
          <span className="muted">
            {reading.tone === "breached" ? " was due " : " due "}
            {formatTime(due)}
          </span>
        )}
        {answeredAt && <span className="muted"> {formatTime(answeredAt)}</span>}
        {note && <p className="muted hint">{note}</p>}
      </dd>
    </div>
  );
}

function SlaPanel({ sla }: { sla: SlaView }) {
  const id = useId();
  const now = useNow();
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>SLA</h2>
      <dl className="clocks">
        <Clock
          name="First response"
          reading={readFirstResponse(sla, now)}
          due={sla.first_responded_at ? null : sla.first_response_due_at}
          answeredAt={sla.first_responded_at}
        />
        <Clock
          name="Resolution"
          reading={readResolution(sla, now)}
          due={sla.resolution_due_at}
          note={pausedWithBudget(sla) ? WORKING_TIME_NOTE : null}
        />
      </dl>
    </section>
  );
}

function SeverityPanel({ c }: { c: AgentCase }) {
  const id = useId();
  const levels = useSeverities().data;
  const severityName = useSeverityName();
  const [severity, setSeverity] = useState(String(c.severity));
  const [prioritised, setPrioritised] = useState(c.prioritised);
  const [reason, setReason] = useState("");
  const change = useCaseCommand(c.id, () =>
    agentApi.changeSeverity(c.id, {
      severity: Number(severity),
      reason: reason.trim(),
      ...(prioritised !== c.prioritised ? { prioritised } : {}),
    }),
  );
  const exclusive = useExclusive();
  const problem = failure(change);
  const unchanged = Number(severity) === c.severity && prioritised === c.prioritised;
  const [reasonMissing, setReasonMissing] = useState(false);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setReasonMissing(true);
      return;
    }
    setReasonMissing(false);
    exclusive(async () => {
      await change.mutateAsync(undefined);
      setReason("");
    });
  }

  return (
    <section className="panel severity-panel" aria-labelledby={id}>
      <h2 id={id}>Change severity</h2>
      <ProblemMessage problem={problem} />
      <form onSubmit={onSubmit} noValidate aria-labelledby={id} className="severity-form">
        <div className="field">
          <label htmlFor={`${id}-level`}>New severity</label>
          <select id={`${id}-level`} value={severity} onChange={(e) => setSeverity(e.target.value)}>
            {(levels ?? [{ level: 1 }, { level: 2 }, { level: 3 }]).map((s) => (
              <option key={s.level} value={String(s.level)}>
                {severityName(s.level)}
              </option>
            ))}
          </select>
        </div>
        {c.prioritised && (
          <div className="field checkbox">
            <input
              id={`${id}-prioritised`}
              type="checkbox"
              checked={prioritised}
              onChange={(e) => setPrioritised(e.target.checked)}
            />
            <label htmlFor={`${id}-prioritised`}>Prioritised (“Production Down”)</label>
          </div>
        )}
        <TextAreaField
          label="Reason"
          rows={2}
          value={reason}
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
          error={reasonMissing ? "Say why the severity changes." : problem?.fields.reason}
          required
        />
        <div className="actions">
          <button
            type="submit"
            disabled={change.isPending || unchanged}
            aria-describedby={unchanged ? `${id}-unchanged` : undefined}
          >
            Change severity
          </button>
        </div>
        {unchanged && (
          <p id={`${id}-unchanged`} className="muted hint">
            Choose another severity{c.prioritised ? " or clear Prioritised" : ""} to change it.
          </p>
        )}
      </form>
      {c.severity_changes && c.severity_changes.length > 0 && (
        <ol className="severity-changes">
          {c.severity_changes.map((s) => (
            <li key={s.changed_at}>
              {severityName(s.from_severity)} → {severityName(s.to_severity)} by{" "}
              {s.changed_by_name ?? "Support"}, {formatTime(s.changed_at)}: “{s.reason}”
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
