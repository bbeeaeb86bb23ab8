import type { ReactNode } from "react";
import { Link } from "react-router";
import type { Column } from "./DataTable";

interface CaseRow {
  id: string;
  number: string;
  subject: string;
  prioritised: boolean;
}

/**
 * The columns every list of cases starts with (My Cases, Queue): "Case #" links the case page, which remembers the
 * list (from) for "Back to Cases List"; "Subject" with the prioritised badge, and what else a list adds under it.
 */
export function caseColumns<T extends CaseRow>(
  from: string,
  under?: (row: T) => ReactNode,
): Column<T>[] {
  return [
    {
      header: "Case #",
      cell: (c) => (
        <Link to={`/cases/${c.id}`} state={{ from }}>
          {c.number}
        </Link>
      ),
    },
    {
      header: "Subject",
      cell: (c) => (
        <>
          {c.subject}
          {c.prioritised && <span className="badge priority">Prioritised</span>}
          {under?.(c)}
        </>
      ),
    },
  ];
}
