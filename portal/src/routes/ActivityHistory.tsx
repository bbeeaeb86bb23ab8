import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { problemOf } from "../api/problem";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatTime } from "../components/format";
import { useActivity } from "./caseQueries";

type Entry = Schemas["ActivityEntry"];

/**
 * What an email is, from what the activity history tells: its direction and place. The first email to the customer
 * is always the acknowledgement of the new case (notifications sends it on CaseOpened).
 */
export function kindOf(
  entry: Pick<Entry, "direction" | "status">,
  firstOutbound: boolean,
  forAgent: boolean,
): string {
  const base =
    entry.direction === "inbound"
      ? forAgent
        ? "The customer's message, as sent to support"
        : "Your message, as sent to support"
      : entry.direction === "outbound"
        ? firstOutbound
          ? "Acknowledgement"
          : "Email from support"
        : "Alert to the support team";
  return entry.status === "sent" ? base : `${base} (${entry.status})`;
}

export function ActivityHistory({ caseId, forAgent }: { caseId: string; forAgent: boolean }) {
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
              {activity.data.map((e, index) => (
                <tr key={e.id}>
                  <td data-label="Subject">
                    <Link to={`/cases/${caseId}/activity/${e.id}`}>{e.subject}</Link>
                  </td>
                  <td data-label="From">{e.from}</td>
                  <td data-label="To">{e.to ?? ""}</td>
                  <td data-label="Sent">{e.sent_at ? formatTime(e.sent_at) : "Not sent yet"}</td>
                  <td data-label="Type">
                    {kindOf(
                      e,
                      activity.data.findIndex((x) => x.direction === "outbound") === index,
                      forAgent,
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
