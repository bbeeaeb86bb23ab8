import type { ProblemView } from "../api/problem";

/** A failed call in words: the problem's detail and the error id to quote to support. */
export function ProblemMessage({ problem }: { problem: ProblemView | null }) {
  if (!problem) return null;
  return (
    <div className="problem" role="alert">
      <p>{problem.detail}</p>
      {problem.errorId && (
        <p className="error-id">
          Error id <code>{problem.errorId}</code>: quote this in a support case.
        </p>
      )}
    </div>
  );
}
