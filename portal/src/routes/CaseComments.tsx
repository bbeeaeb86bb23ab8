import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { TextAreaField } from "../components/Field";
import { ProblemMessage } from "../components/ProblemMessage";
import { useExclusive } from "../hooks/useExclusive";
import { formatTime } from "../components/format";
import { useIdempotencyKey } from "../hooks/useIdempotencyKey";

type Comment = Schemas["CommentView"];

type Me = Pick<Schemas["UserRead"], "id" | "display_name">;

function authorOf(comment: Comment, me: Me | undefined): string {
  if (comment.author_name) return comment.author_name;
  if (me && comment.author_id === me.id) return me.display_name;
  return comment.author_role === "customer" ? "Customer" : "Support";
}

export function CommentList({ comments, me }: { comments: Comment[]; me: Me | undefined }) {
  if (comments.length === 0) return <p className="empty">No comments yet.</p>;
  return (
    <ol className="comments">
      {comments.map((c) => (
        <li key={c.id} className={c.internal ? "comment internal" : "comment"}>
          <p className="comment-meta">
            <strong>{authorOf(c, me)}</strong>
            {(c.author_role === "agent" || c.author_role === "admin") && (
              <span className="badge">Support</span>
            )}{" "}
            <time dateTime={c.created_at}>{formatTime(c.created_at)}</time>
            {c.internal && (
              <span className="badge internal-badge">Internal note: not shown to the customer</span>
            )}
          </p>
          <p className="comment-body">{c.body}</p>
        </li>
      ))}
    </ol>
  );
}

export function AddComment({ caseId, isAgent }: { caseId: string; isAgent: boolean }) {
  const [body, setBody] = useState("");
  const [internal, setInternal] = useState(false);
  const idempotency = useIdempotencyKey();
  const queryClient = useQueryClient();
  const headingId = useId();
  const add = useMutation({
    mutationFn: async () => {
      const content = { body, internal: isAgent && internal };
      const comment = unwrap(
        await api.POST("/api/cases/{case_id}/comments", {
          params: {
            path: { case_id: caseId },
            header: { "Idempotency-Key": idempotency.current(content) },
          },
          body: content,
        }),
      );
      idempotency.succeeded(content);
      return comment;
    },
    onSuccess: async () => {
      setBody("");
      setInternal(false);
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    },
  });
  const exclusive = useExclusive();
  const problem = add.isError ? problemOf(add.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    exclusive(() => add.mutateAsync());
  }

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Add Comment</h2>
      <form
        onSubmit={onSubmit}
        noValidate
        aria-labelledby={headingId}
        className={isAgent && internal ? "internal-form" : undefined}
      >
        <ProblemMessage problem={problem} />
        <TextAreaField
          label="Comment"
          rows={5}
          value={body}
          onChange={(e) => setBody(e.target.value)}
          error={problem?.fields.body}
          required
        />
        {isAgent && (
          <div className="field checkbox">
            <input
              id={`${headingId}-internal`}
              type="checkbox"
              checked={internal}
              onChange={(e) => setInternal(e.target.checked)}
            />
            <label htmlFor={`${headingId}-internal`}>Internal note</label>
            <span className="hint">
              {internal
                ? "Only the support team will see this comment."
                : "Without it, the customer sees this comment."}
            </span>
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={add.isPending}>
            Save
          </button>
        </div>
      </form>
    </section>
  );
}
