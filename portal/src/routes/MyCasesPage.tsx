import { type FormEvent } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import type { Schemas } from "../api/client";
import { unwrap } from "../api/problem";
import { DataTable, pageSource, type Column } from "../components/DataTable";
import { caseColumns } from "../components/caseColumns";
import { useSearchText } from "../components/Pager";
import { formatCount, formatTime, statusLabel } from "../components/format";
import { useSeverityName } from "../components/severity";
import { useCaseCounts } from "../hooks/useCaseCounts";
import { previousCursors, readCasesQuery, writeCasesQuery, type StatusFilter } from "./casesQuery";

type CaseSummary = Schemas["CaseSummaryView"];

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "open", label: "Open" },
  { value: "closed", label: "Closed" },
];

export default function MyCasesPage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const query = readCasesQuery(params);
  const prev = previousCursors(location.state);
  const [search, setSearch] = useSearchText(query.q);
  const counts = useCaseCounts(query.q);
  const severityName = useSeverityName();

  const page = useQuery({
    queryKey: ["cases", query.status, query.q, query.cursor],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/cases", {
          params: {
            query: {
              status: query.status,
              ...(query.q ? { q: query.q } : {}),
              ...(query.cursor ? { cursor: query.cursor } : {}),
              limit: 20,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  function go(next: Partial<typeof query>, stack: (string | null)[] = []) {
    navigate(
      { search: `?${writeCasesQuery({ ...query, cursor: null, ...next })}` },
      { state: { prev: stack } },
    );
  }

  const here = location.pathname + location.search;
  const columns: Column<CaseSummary>[] = [
    ...caseColumns<CaseSummary>(here),
    {
      header: "Status",
      cell: (c) => <span className={`status status-${c.status}`}>{statusLabel(c.status)}</span>,
    },
    { header: "Severity", cell: (c) => severityName(c.severity) },
    { header: "Last activity", cell: (c) => formatTime(c.last_activity_at) },
  ];

  function onSearch(event: FormEvent) {
    event.preventDefault();
    go({ q: search.trim() });
  }

  return (
    <section>
      <div className="page-title">
        <h1>My Cases</h1>
        <Link to="/cases/new" className="button primary">
          Create Case
        </Link>
      </div>
      <div className="toolbar">
        <nav aria-label="Case status" className="filters">
          {FILTERS.map((f) => {
            const count = counts?.[f.value];
            const capped = counts?.[`${f.value}_capped`] ?? false;
            return (
              <Link
                key={f.value}
                to={{ search: `?${writeCasesQuery({ ...query, status: f.value, cursor: null })}` }}
                aria-current={query.status === f.value ? "page" : undefined}
                className="filter"
              >
                {count === undefined ? f.label : `${f.label} (${formatCount(count, capped)})`}
              </Link>
            );
          })}
        </nav>
        <form role="search" onSubmit={onSearch} className="search">
          <label htmlFor="case-search">Search</label>
          <input
            id="case-search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Keyword in the subject"
          />
          <button type="submit">Search</button>
        </form>
      </div>
      <DataTable
        caption="Your cases"
        className="cases"
        columns={columns}
        source={pageSource(page)}
        rowKey={(c) => c.id}
        empty={query.q ? `No case has “${query.q}” in its subject.` : "No cases here yet."}
        pager={{
          cursor: query.cursor,
          nextCursor: page.data?.next_cursor,
          prev,
          go: (c, stack) => go({ cursor: c }, stack),
        }}
      />
    </section>
  );
}
