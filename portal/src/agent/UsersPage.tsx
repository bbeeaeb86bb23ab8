import { useState, type FormEvent } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { problemOf } from "../api/problem";
import { Dialog } from "../components/Dialog";
import { DataTable, pageSource, type Column } from "../components/DataTable";
import { useSearchText } from "../components/Pager";
import { ProblemMessage } from "../components/ProblemMessage";
import { previousCursors } from "../routes/casesQuery";
import { AgentOnly } from "./AgentOnly";
import { agentApi, type UserAdminView } from "./api";
import { useRole } from "./roles";

export default function UsersPage() {
  return (
    <AgentOnly admin title="Users">
      <Users />
    </AgentOnly>
  );
}

type Action = "make-agent" | "remove-agent" | "disable" | "enable";

export function roleLabel(role: string): string {
  return role === "admin" ? "Admin" : role === "agent" ? "Agent" : "Customer";
}

function stateLabel(user: UserAdminView): string {
  if (user.disabled) return "Disabled";
  return user.email_verified ? "Active" : "Email not confirmed";
}

/** The actions an admin may take on a user; none on themself (the service refuses those anyway). */
export function actionsFor(user: UserAdminView, myId: string | undefined): Action[] {
  if (user.id === myId) return [];
  const actions: Action[] = [];
  if (user.role === "customer") actions.push("make-agent");
  if (user.role === "agent") actions.push("remove-agent");
  actions.push(user.disabled ? "enable" : "disable");
  return actions;
}

const DONE: Record<Action, string> = {
  "make-agent": "is now an agent",
  "remove-agent": "is no longer an agent",
  disable: "is disabled: every session ended and login is refused",
  enable: "can log in again",
};

function Users() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const q = params.get("q") ?? "";
  const cursor = params.get("cursor") || null;
  const prev = previousCursors(location.state);
  const [search, setSearch] = useSearchText(q);
  const { me } = useRole();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<UserAdminView | null>(null);
  const [done, setDone] = useState("");

  const page = useQuery({
    queryKey: ["users", q, cursor],
    queryFn: () =>
      agentApi.users({ limit: 20, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) }),
    placeholderData: keepPreviousData,
  });

  const act = useMutation({
    mutationFn: async ({ user, action }: { user: UserAdminView; action: Action }) => {
      if (action === "make-agent") await agentApi.setRole(user.id, "agent");
      if (action === "remove-agent") await agentApi.setRole(user.id, "customer");
      if (action === "disable") await agentApi.disable(user.id);
      if (action === "enable") await agentApi.enable(user.id);
    },
    onMutate: () => setDone(""),
    onSuccess: async (_, { user, action }) => {
      setConfirming(null);
      setDone(`${user.display_name} ${DONE[action]}.`);
      await queryClient.invalidateQueries({ queryKey: ["users"] });
      void queryClient.invalidateQueries({ queryKey: ["agents"] });
    },
  });

  function go(next: { q?: string; cursor?: string | null }, stack: (string | null)[] = []) {
    const search = new URLSearchParams();
    const nextQ = next.q ?? q;
    if (nextQ) search.set("q", nextQ);
    if (next.cursor) search.set("cursor", next.cursor);
    navigate({ search: `?${search}` }, { state: { prev: stack } });
  }

  function onSearch(event: FormEvent) {
    event.preventDefault();
    go({ q: search.trim() });
  }

  function run(user: UserAdminView, action: Action) {
    if (action === "disable") setConfirming(user);
    else act.mutate({ user, action });
  }

  const label: Record<Action, string> = {
    "make-agent": "Make agent",
    "remove-agent": "Remove agent",
    disable: "Disable",
    enable: "Enable",
  };

  const columns: Column<UserAdminView>[] = [
    {
      header: "Display name",
      cell: (u) => (
        <>
          <span id={`user-name-${u.id}`}>{u.display_name}</span>
          {u.id === me?.id && " (you)"}
        </>
      ),
    },
    { header: "Email", cell: (u) => <span id={`user-email-${u.id}`}>{u.email}</span> },
    { header: "Role", cell: (u) => roleLabel(u.role) },
    {
      header: "State",
      cell: (u) => (
        <span className={u.disabled ? "status status-disabled" : undefined}>{stateLabel(u)}</span>
      ),
    },
    {
      header: "Actions",
      cell: (u) => {
        const actions = actionsFor(u, me?.id);
        if (actions.length === 0) return <span className="muted">None on your own account</span>;
        return (
          <div className="row-actions">
            {actions.map((action) => (
              <button
                key={action}
                type="button"
                // The name stays the guide's word ("Make agent"); whom it acts on is read after it.
                aria-describedby={`user-name-${u.id} user-email-${u.id}`}
                className={action === "disable" ? "danger" : undefined}
                disabled={act.isPending}
                onClick={() => run(u, action)}
              >
                {label[action]}
              </button>
            ))}
          </div>
        );
      },
    },
  ];

  return (
    <section>
      <h1>Users</h1>
      <div className="toolbar">
        <form role="search" onSubmit={onSearch} className="search">
          <label htmlFor="user-search">Search</label>
          <input
            id="user-search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Email or display name"
            aria-describedby="user-search-hint"
          />
          <button type="submit">Search</button>
          <span id="user-search-hint" className="visually-hidden">
            by email or display name
          </span>
        </form>
      </div>
      <p role="status" className="success">
        {done}
      </p>
      {!confirming && <ProblemMessage problem={act.isError ? problemOf(act.error) : null} />}
      <DataTable
        caption="Users"
        className="users"
        columns={columns}
        source={pageSource(page)}
        rowKey={(u) => u.id}
        rowClassName={(u) => (u.disabled ? "disabled-row" : undefined)}
        empty={q ? `No user matches “${q}”.` : "No users yet."}
        pager={{
          cursor,
          nextCursor: page.data?.next_cursor,
          prev,
          go: (c, stack) => go({ cursor: c }, stack),
        }}
      />
      {confirming && (
        <Dialog title="Disable" onClose={() => setConfirming(null)}>
          <p>
            Disable <strong>{confirming.display_name}</strong> ({confirming.email})? Every session
            of theirs ends at once and they can no longer log in.
          </p>
          <ProblemMessage problem={act.isError ? problemOf(act.error) : null} />
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={act.isPending}
              onClick={() => act.mutate({ user: confirming, action: "disable" })}
            >
              Disable
            </button>
            <button type="button" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}
