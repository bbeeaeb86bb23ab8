import { useState } from "react";
import { Link, Navigate, useLocation, useParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Dialog } from "../components/Dialog";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatTime, statusLabel } from "../components/format";
import { useSeverityName } from "../components/severity";
import { useMe } from "../session/useSession";
import { AddAttachment, AttachmentList } from "./CaseAttachments";
import { AddComment, CommentList } from "./CaseComments";
import { ActivityHistory } from "./ActivityHistory";
import { CASE_ID_PATTERN, CASE_NUMBER_PATTERN, useCase } from "./caseQueries";
import { CaseAgentPanel } from "../agent/CaseAgentPanel";
import { waitingLabel } from "../agent/labels";
import { isAgentRole } from "../agent/roles";

/** "Back to Cases List": the list they came from (My Cases or the Queue, with its filters), else their own list. */
export function backToList(state: unknown, isAgent: boolean): string {
  const from = (state as { from?: unknown } | null)?.from;
  if (typeof from === "string" && (from.startsWith("/cases") || from.startsWith("/queue")))
    return from;
  return isAgent ? "/queue" : "/cases";
}

export default function CasePage() {
  const { caseId = "" } = useParams();
  const location = useLocation();
  const wellFormed = CASE_ID_PATTERN.test(caseId);
  const found = useCase(caseId, wellFormed);
  const me = useMe();
  const isAgent = isAgentRole(me.data?.role);
  const severityName = useSeverityName();
  const back = (
    <p>
      <Link to={backToList(location.state, isAgent)}>Back to Cases List</Link>
    </p>
  );

  // A number typed or pasted after /cases/ is the case by its number; any other address is no case (the API would
  // only say "invalid fields").
  if (CASE_NUMBER_PATTERN.test(caseId))
    return <Navigate to={`/cases/by-number/${caseId}`} replace />;
  if (!wellFormed) {
    return (
      <section>
        <h1>Case not found</h1>
        <p role="alert">
          There is no case at this address. Open a case from your list, or go to /cases/ followed by
          its number.
        </p>
        {back}
      </section>
    );
  }
  if (found.isError) {
    const problem = problemOf(found.error);
    return (
      <section>
        <h1>{problem.status === 404 ? "Case not found" : "Case"}</h1>
        <ProblemMessage problem={problem} />
        {back}
      </section>
    );
  }
  if (!found.data) return <p className="loading">Loading…</p>;
  const c = found.data;
  const closed = c.status === "closed";
  // Agents see where an open case waits; customers keep plain Open / Closed.
  const status = isAgent ? waitingLabel(c.status, c.waiting_on) : statusLabel(c.status);
  // The badge has the Queue's colour for the same state.
  const statusTone = isAgent && !closed ? (c.waiting_on ?? c.status) : c.status;

  return (
    <article className="case">
      {back}
      <div className="page-title">
        <h1>Case {c.number}</h1>
        <span className={`status status-${statusTone}`}>{status}</span>
        {c.prioritised && <span className="badge priority">Prioritised</span>}
      </div>
      <h2 className="case-subject">{c.subject}</h2>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>{status}</dd>
        </div>
        <div>
          <dt>Product</dt>
          <dd>{c.product.name}</dd>
        </div>
        <div>
          <dt>Severity</dt>
          <dd>{severityName(c.severity)}</dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>
            {formatTime(c.opened_at)}
            {c.opened_by_name && ` by ${c.opened_by_name}`}
            {isAgent && c.opened_by_email && ` (${c.opened_by_email})`}
          </dd>
        </div>
        <div>
          <dt>Last activity</dt>
          <dd>{formatTime(c.last_activity_at)}</dd>
        </div>
        {c.closed_at && (
          <div>
            <dt>Closed</dt>
            <dd>{formatTime(c.closed_at)}</dd>
          </div>
        )}
      </dl>
      {!isAgent && !closed && c.waiting_on === "customer" && (
        <p className="awaiting-you" role="status">
          Support is waiting for your reply: add a comment below (or answer our last email) and the
          case goes back to the support team.
        </p>
      )}
      {isAgent && <CaseAgentPanel c={c} myId={me.data?.id} />}
      <section aria-labelledby="description-heading">
        <h2 id="description-heading">Description</h2>
        <p className="description">{c.description}</p>
      </section>
      <section aria-labelledby="comments-heading">
        <h2 id="comments-heading">Comments</h2>
        <CommentList comments={c.comments} me={me.data} />
      </section>
      <section aria-labelledby="attachments-heading">
        <h2 id="attachments-heading">Attachments</h2>
        <AttachmentList attachments={c.attachments} />
      </section>
      {closed ? (
        <section className="panel closed-note">
          <p>
            This case is <strong>Closed</strong> and cannot be reopened. If the problem came back,
            open a new case.
          </p>
          <Link
            className="button primary"
            to={`/cases/new?refers_to=${encodeURIComponent(c.number)}`}
          >
            Create a new case
          </Link>
        </section>
      ) : (
        <>
          <AddComment caseId={c.id} isAgent={isAgent} />
          <AddAttachment caseId={c.id} />
          <CloseCase caseId={c.id} />
        </>
      )}
      <ActivityHistory caseId={c.id} />
    </article>
  );
}

function CloseCase({ caseId }: { caseId: string }) {
  const [asking, setAsking] = useState(false);
  const queryClient = useQueryClient();
  const close = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/cases/{case_id}/close", { params: { path: { case_id: caseId } } }),
      ),
    onSuccess: (closed) => {
      setAsking(false);
      queryClient.setQueryData(["case", caseId], closed);
      void queryClient.invalidateQueries({ queryKey: ["case", caseId] });
      void queryClient.invalidateQueries({ queryKey: ["cases"] });
    },
  });
  return (
    <section className="panel">
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Close Case
      </button>
      {asking && (
        <Dialog title="Close Case" onClose={() => setAsking(false)}>
          <p>Closing is final: a closed case cannot be reopened. Do you want to close this case?</p>
          <ProblemMessage problem={close.isError ? problemOf(close.error) : null} />
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={close.isPending}
              onClick={() => close.mutate()}
            >
              Close Case
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
