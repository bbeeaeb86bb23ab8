import type { paths } from "./schema";
import { toProblem, ProblemError } from "./problem";
import { session } from "../session/session";

type Uploaded = paths["/api/attachments"]["post"]["responses"][201]["content"]["application/json"];
export type UploadedFile = Uploaded[number];

interface UploadOptions {
  caseId?: string | undefined;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

function send(file: File, token: string | null, options: UploadOptions): Promise<XMLHttpRequest> {
  // XMLHttpRequest, not fetch: only it reports upload progress for the progress bar.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/attachments");
    xhr.responseType = "text";
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ProblemError(toProblem(null)));
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append("file", file, file.name);
    if (options.caseId) form.append("case_id", options.caseId);
    xhr.send(form);
  });
}

function parse(xhr: XMLHttpRequest): unknown {
  try {
    return JSON.parse(xhr.responseText) as unknown;
  } catch {
    return null;
  }
}

function responseOf(xhr: XMLHttpRequest): Response {
  const headers = new Headers();
  const requestId = xhr.getResponseHeader("X-Request-ID");
  if (requestId) headers.set("X-Request-ID", requestId);
  return new Response(null, { status: xhr.status || 500, headers });
}

/** Uploads one file to the attachments service; on a 401 refreshes the session once and tries again. */
export async function uploadFile(file: File, options: UploadOptions = {}): Promise<UploadedFile> {
  let xhr = await send(file, session.getSnapshot().accessToken, options);
  if (xhr.status === 401 && (await session.refresh())) {
    options.onProgress?.(0);
    xhr = await send(file, session.getSnapshot().accessToken, options);
  }
  const body = parse(xhr);
  if (xhr.status !== 201 || !Array.isArray(body) || body.length === 0) {
    throw new ProblemError(toProblem(body, responseOf(xhr)));
  }
  options.onProgress?.(1);
  return (body as Uploaded)[0] as UploadedFile;
}
