import { session } from "../session/session";
import { toProblem, ProblemError } from "./problem";

/**
 * Downloads need the bearer token, which a plain link cannot carry: fetch the bytes through the session (which
 * refreshes on a 401), then save them under the attachment's name from a blob URL that is revoked right after.
 */
export async function downloadAttachment(id: string, filename: string): Promise<void> {
  const request = new Request(
    new URL(`/api/attachments/${encodeURIComponent(id)}`, window.location.origin),
  );
  const response = await session.fetch(request);
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ProblemError(toProblem(body, response));
  }
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    link.rel = "noopener";
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // Give the browser a moment to start the download before the URL goes.
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
