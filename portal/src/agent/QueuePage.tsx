import { type FormEvent } from "react";
import { Link, useLocation, useNavigate, useSearchParams } from "react-router";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { unwrap } from "../api/problem";
import { DataTable, pageSource, type Column } from "../components/DataTable";
import { caseColumns } from "../components/caseColumns";
import { useSearchText } from "../components/Pager";
import { formatTime } from "../components/format";
import { useSeverities, useSeverityName } from "../components/severity";
import { previousCursors } from "../routes/casesQuery";
import { AgentOnly } from "./AgentOnly";
import { agentApi, type QueueItem } from "./api";
import { waitingLabel } from "./labels";
import {
  DUE_SOON_HOURS,
  queueApiQuery,
  queueHref,
  readQueueQuery,
  writeQueueQuery,
  type QueueAssignee,
  type QueueQuery,
  type QueueSla,
  type QueueStatus,
} from "./queueQuery";
import { useNow } from "./roles";
import { readQueueSla } from "./sla";

const STATUSES: { value: QueueStatus; label: string }[] = [
  { value: "open", label: "All open" },
  { value: "waiting_on_support", label: "Waiting on support" },
  { value: "waiting_on_customer", label: "Waiting on customer" },
  { value: "closed", label: "Closed" },
];
const ASSIGNEES: { value: QueueAssignee; label: string }[] = [
  { value: "me", label: "Mine" },
  { value: "unassigned", label: "Unassigned" },
  { value: "anyone", label: "Anyone" },
];
const SLAS: { value: QueueSla; label: string }[] = [
  { value: "", label: "Any SLA" },
  { value: "breached", label: "Breached" },
  { value: "due_soon", label: "Due soon" },
];

export default function QueuePage() {
  return (
    <AgentOnly title="Queue">
      <Queue />
    </AgentOnly>
  );
}

function FilterLinks<T extends string>({
  name,
  options,
  current,
  href,
  hint,
}: {
  name: string;
  options: { value: T; label: string }[];
  current: T;
  href: (value: T) => string;
  hint?: string;
}) {
  return (
    <nav aria-label={name} className="filter-group">
      <span className="filter-name" aria-hidden="true">
        {name}
      </span>
      <div className="filters">
        {options.map((o) => (
          <Link
            key={o.value || "any"}
            to={{ search: href(o.value) }}
            aria-current={current === o.value ? "page" : undefined}
            className="filter"
          >
            {o.label}
          </Link>
        ))}
      </div>
      {hint && <span className="muted hint">{hint}</span>}
    </nav>
  );
}

function Queue() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const query = readQueueQuery(params);
  const prev = previousCursors(location.state);
  const [search, setSearch] = useSearchText(query.q);
  const severities = useSeverities().data;
  const severityName = useSeverityName();
  const now = useNow();
  const products = useQuery({
    queryKey: ["products"],
    queryFn: async () => unwrap(await api.GET("/api/cases/products")),
    staleTime: 10 * 60_000,
  });
  const agents = useQuery({
    queryKey: ["agents"],
    queryFn: () => agentApi.agents(),
    staleTime: 5 * 60_000,
  });
  const named = !ASSIGNEES.some((a) => a.value === query.assignee);
  const apiQuery = queueApiQuery(query);
  const page = useQuery({
    queryKey: ["queue", apiQuery],
    queryFn: () => agentApi.queue(apiQuery),
    placeholderData: keepPreviousData,
    // A queue is watched: new cases and replies arrive while it is open.
    refetchInterval: 30_000,
  });

  function go(change: Partial<QueueQuery>, stack: (string | null)[] = []) {
    navigate({ search: queueHref(query, change) }, { state: { prev: stack } });
  }

  function onSearch(event: FormEvent) {
    event.preventDefault();
    go({ q: search.trim() });
  }

  const here = location.pathname + location.search;
  const columns: Column<QueueItem>[] = [
    ...caseColumns<QueueItem>(here, (c) => (
      <span className="muted product-name">{c.product.name}</span>
    )),
    { header: "Customer", cell: (c) => c.customer.display_name ?? c.customer.email ?? "—" },
    {
      header: "Status",
      cell: (c) => (
        <span className={`status status-${c.waiting_on ?? c.status}`}>
          {waitingLabel(c.status, c.waiting_on)}
        </span>
      ),
    },
    {
      header: "Assignee",
      cell: (c) => (c.assignee ? (c.assignee.display_name ?? "An agent") : <em>Unassigned</em>),
    },
    { header: "Severity", cell: (c) => severityName(c.severity) },
    {
      header: "SLA",
      cell: (c) => {
        const sla = readQueueSla(c, now);
        if (!sla.text) return null;
        // The countdown alone does not say when: the deadline itself, in the reader's time zone, goes under it.
        return (
          <>
            <span className={`clock clock-${sla.tone}`}>{sla.text}</span>
            {c.next_deadline_at && (
              <span className="muted clock-due">
                {c.breached ? "was due" : "due"} {formatTime(c.next_deadline_at)}
              </span>
            )}
          </>
        );
      },
    },
    { header: "Last activity", cell: (c) => formatTime(c.last_activity_at) },
  ];
  const filtered = writeQueueQuery({ ...query, cursor: null, sort: "urgency" }).toString() !== "";

  return (
    <section>
      <div className="page-title">
        <h1>Queue</h1>
      </div>
      <div className="queue-filters">
        <FilterLinks
          name="Status"
          options={STATUSES}
          current={query.status}
          href={(status) => queueHref(query, { status })}
        />
        <FilterLinks
          name="Assignee"
          options={ASSIGNEES}
          current={query.assignee}
          href={(assignee) => queueHref(query, { assignee })}
        />
        <FilterLinks
          name="SLA"
          options={SLAS}
          current={query.sla}
          href={(sla) => queueHref(query, { sla })}
          hint={`Due soon: an SLA deadline within ${DUE_SOON_HOURS} h`}
        />
        <div className="filter-selects">
          <div className="field checkbox">
            <input
              id="queue-prioritised"
              type="checkbox"
              checked={query.prioritised}
              onChange={(e) => go({ prioritised: e.target.checked })}
            />
            <label htmlFor="queue-prioritised">Prioritised</label>
          </div>
          <div className="field">
            <label htmlFor="queue-agent">Assigned to</label>
            <select
              id="queue-agent"
              value={named ? query.assignee : ""}
              onChange={(e) => go({ assignee: e.target.value || "anyone" })}
            >
              <option value="">Any agent</option>
              {named && !agents.data?.some((a) => a.id === query.assignee) && (
                <option value={query.assignee}>An agent no longer listed</option>
              )}
              {agents.data?.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.display_name ?? "An agent without a name yet"}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="queue-severity">Severity</label>
            <select
              id="queue-severity"
              value={query.severity}
              onChange={(e) => go({ severity: e.target.value as QueueQuery["severity"] })}
            >
              <option value="">Any severity</option>
              {(severities ?? [1, 2, 3].map((level) => ({ level, name: "" }))).map((s) => (
                <option key={s.level} value={String(s.level)}>
                  {s.name ? `${s.level} - ${s.name}` : s.level}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="queue-product">Product</label>
            <select
              id="queue-product"
              value={query.product}
              onChange={(e) => go({ product: e.target.value })}
            >
              <option value="">Any product</option>
              {products.data?.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="queue-sort">Sort by</label>
            <select
              id="queue-sort"
              value={query.sort}
              onChange={(e) => go({ sort: e.target.value as QueueQuery["sort"] })}
            >
              <option value="urgency">Urgency</option>
              <option value="last_activity">Last activity</option>
            </select>
          </div>
        </div>
        <form role="search" onSubmit={onSearch} className="search">
          <label htmlFor="queue-search">Search</label>
          <input
            id="queue-search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Subject, description or comments"
          />
          <button type="submit">Search</button>
        </form>
        {filtered && (
          <p>
            <Link to={{ search: "?" }}>Clear filters</Link>
          </p>
        )}
      </div>
      <DataTable
        caption={`Cases to work on, sorted by ${query.sort === "urgency" ? "urgency" : "last activity"}`}
        className="cases queue"
        columns={columns}
        source={pageSource(page)}
        rowKey={(c) => c.id}
        rowClassName={(c) => (c.breached ? "breached-row" : undefined)}
        empty="No case matches these filters."
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
