import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { downloadAttachment } from "../api/download";
import { problemOf, unwrap, type ProblemView } from "../api/problem";
import { FilePicker } from "../components/FilePicker";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatSize, formatTime } from "../components/format";
import { useUploads } from "../hooks/useUploads";

type Attachment = Schemas["AttachmentView"];

export function AttachmentList({ attachments }: { attachments: Attachment[] }) {
  const [problem, setProblem] = useState<ProblemView | null>(null);
  if (attachments.length === 0) return <p className="empty">No attachments.</p>;
  return (
    <>
      <ProblemMessage problem={problem} />
      <ul className="attachments">
        {attachments.map((a) => (
          <li key={a.id}>
            <a
              href={`/api/attachments/${a.id}`}
              download={a.filename}
              onClick={(event) => {
                event.preventDefault();
                setProblem(null);
                downloadAttachment(a.id, a.filename).catch((error: unknown) =>
                  setProblem(problemOf(error)),
                );
              }}
            >
              {a.filename}
            </a>{" "}
            <span className="muted">
              {formatSize(a.size)}, {formatTime(a.added_at)}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

export function AddAttachment({ caseId }: { caseId: string }) {
  const uploads = useUploads(caseId);
  const queryClient = useQueryClient();
  const headingId = useId();
  const save = useMutation({
    mutationFn: async (references: string[]) => {
      for (const reference of references) {
        unwrap(
          await api.POST("/api/cases/{case_id}/attachments", {
            params: { path: { case_id: caseId } },
            body: { reference },
          }),
        );
      }
    },
    onSuccess: async () => {
      uploads.clear();
      await queryClient.invalidateQueries({ queryKey: ["case", caseId] });
    },
  });
  const problem: ProblemView | null = save.isError ? problemOf(save.error) : null;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!save.isPending && !uploads.busy && uploads.references.length > 0) {
      save.mutate(uploads.references);
    }
  }

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Add Attachment</h2>
      <form onSubmit={onSubmit} noValidate aria-labelledby={headingId}>
        <ProblemMessage problem={problem} />
        <FilePicker
          label="Attachment"
          items={uploads.items}
          onAdd={uploads.add}
          onRemove={uploads.remove}
        />
        <div className="actions">
          <button
            type="submit"
            className="primary"
            disabled={save.isPending || uploads.busy || uploads.references.length === 0}
          >
            Save
          </button>
        </div>
      </form>
    </section>
  );
}
