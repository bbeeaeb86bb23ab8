import type { ReactNode } from "react";
import { ProblemMessage } from "../components/ProblemMessage";
import { problemOf } from "../api/problem";
import { useRole } from "./roles";

/** A page of the agent workspace: agents and admins (or admins only) see it; anyone else is told it is not theirs. */
export function AgentOnly({
  admin = false,
  title,
  children,
}: {
  admin?: boolean;
  title: string;
  children: ReactNode;
}) {
  const role = useRole();
  if (role.failed) {
    return (
      <section>
        <h1>{title}</h1>
        <ProblemMessage problem={problemOf(role.error)} />
      </section>
    );
  }
  if (!role.known) return <p className="loading">Loading…</p>;
  if (admin ? !role.isAdmin : !role.isAgent) {
    return (
      <section>
        <h1>{title}</h1>
        <p>
          This page is for {admin ? "administrators" : "the support team"}. Your cases are under My
          Cases.
        </p>
      </section>
    );
  }
  return <>{children}</>;
}
