import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { DataTable, listSource, type Column } from "../components/DataTable";
import { formatTime } from "../components/format";
import { useActivity } from "./caseQueries";

type Entry = Schemas["ActivityEntry"];

/** What an email is, in the words notifications gives for this reader ("Reply from support", ...), and its
 * delivery state when it has not gone out yet. */
export function kindOf(entry: Pick<Entry, "label" | "status">): string {
  return entry.status === "sent" ? entry.label : `${entry.label} (${entry.status})`;
}

/** When it went out; a withheld email (its recipient's account is disabled) never will, and says why. */
export function sentOf(entry: Pick<Entry, "sent_at" | "status">): string {
  if (entry.sent_at) return formatTime(entry.sent_at);
  return entry.status === "withheld" ? "Not sent: the account is disabled" : "Not sent yet";
}

export function ActivityHistory({ caseId }: { caseId: string }) {
  const activity = useActivity(caseId);
  const columns: Column<Entry>[] = [
    {
      header: "Subject",
      cell: (e) => <Link to={`/cases/${caseId}/activity/${e.id}`}>{e.subject}</Link>,
    },
    { header: "From", cell: (e) => e.from },
    { header: "To", cell: (e) => e.to ?? "" },
    { header: "Sent", cell: (e) => sentOf(e) },
    { header: "Type", cell: (e) => kindOf(e) },
  ];
  return (
    <section aria-labelledby="activity-heading">
      <h2 id="activity-heading">Activity History</h2>
      <DataTable
        caption="Emails about this case, oldest first"
        className="activity"
        columns={columns}
        source={listSource(activity)}
        rowKey={(e) => e.id}
        empty="No emails about this case yet."
      />
    </section>
  );
}
