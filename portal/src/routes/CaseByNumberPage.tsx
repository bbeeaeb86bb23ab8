import { Navigate, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { ProblemMessage } from "../components/ProblemMessage";

export default function CaseByNumberPage() {
  const { number = "" } = useParams();
  const found = useQuery({
    queryKey: ["case-by-number", number],
    queryFn: async () =>
      unwrap(await api.GET("/api/cases/by-number/{number}", { params: { path: { number } } })),
  });
  if (found.data) return <Navigate to={`/cases/${found.data.id}`} replace />;
  if (found.isError) {
    return (
      <section>
        <h1>Case {number}</h1>
        <ProblemMessage problem={problemOf(found.error)} />
      </section>
    );
  }
  return <p className="loading">Loading…</p>;
}
