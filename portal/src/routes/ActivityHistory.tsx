import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { problemOf } from "../api/problem";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatTime } from "../components/format";
import { useActivity } from "./caseQueries";

type Entry = Schemas["ActivityEntry"];

/** What an email is, in the words notifications gives for this reader ("Reply from support", ...), and its
 * delivery state when it has not gone out yet. */
export function kindOf(entry: Pick<Entry, "label" | "status">): string {
  return entry.status === "sent" ? entry.label : `${entry.label} (${entry.status})`;
}

export function ActivityHistory({ caseId }: { caseId: string }) {
  const activity = useActivity(caseId);
  return (
    <section aria-labelledby="activity-heading">
      <h2 id="activity-heading">Activity History</h2>
      {activity.isError && <ProblemMessage problem={problemOf(activity.error)} />}
      {activity.data && activity.data.length === 0 && (
        <p className="empty">No emails about this case yet.</p>
      )}
      {activity.data && activity.data.length > 0 && (
        <div className="table-wrap">
          <table className="activity">
            <caption className="visually-hidden">Emails about this case, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Subject</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Sent</th>
                <th scope="col">Type</th>
              </tr>
            </thead>
            <tbody>
              {activity.data.map((e) => (
                <tr key={e.id}>
                  <td data-label="Subject">
                    <Link to={`/cases/${caseId}/activity/${e.id}`}>{e.subject}</Link>
                  </td>
                  <td data-label="From">{e.from}</td>
                  <td data-label="To">{e.to ?? ""}</td>
                  <td data-label="Sent">{e.sent_at ? formatTime(e.sent_at) : "Not sent yet"}</td>
                  <td data-label="Type">{kindOf(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
