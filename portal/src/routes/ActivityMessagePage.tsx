import { Link, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { ProblemMessage } from "../components/ProblemMessage";
import { sentOf } from "./ActivityHistory";
import { emailSrcDoc } from "./emailFrame";

export default function ActivityMessagePage() {
  const { caseId = "", messageId = "" } = useParams();
  const message = useQuery({
    queryKey: ["message", messageId],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/notifications/messages/{message_id}", {
          params: { path: { message_id: messageId } },
        }),
      ),
  });
  const back = (
    <p>
      <Link to={`/cases/${caseId}`}>Back</Link>
    </p>
  );
  if (message.isError) {
    return (
      <section>
        <h1>Email</h1>
        <ProblemMessage problem={problemOf(message.error)} />
        {back}
      </section>
    );
  }
  if (!message.data) return <p className="loading">Loading…</p>;
  const m = message.data;
  return (
    <article className="email">
      {back}
      <h1>{m.subject}</h1>
      <dl className="facts">
        <div>
          <dt>From</dt>
          <dd>{m.from}</dd>
        </div>
        <div>
          <dt>To</dt>
          <dd>{m.to ?? ""}</dd>
        </div>
        <div>
          <dt>Sent</dt>
          <dd>{sentOf(m)}</dd>
        </div>
      </dl>
      {m.html ? (
        // The HTML as sent, in a frame with every sandbox restriction: no scripts, no forms, no same-origin access.
        <iframe
          className="email-frame"
          title={`Email: ${m.subject}`}
          sandbox=""
          srcDoc={emailSrcDoc(m.html)}
        />
      ) : (
        <pre className="email-text">{m.text}</pre>
      )}
      {m.html && m.text && (
        <details>
          <summary>Plain text version</summary>
          <pre className="email-text">{m.text}</pre>
        </details>
      )}
    </article>
  );
}
