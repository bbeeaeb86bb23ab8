import { useCallback, useRef, useState } from "react";
import { uploadFile, type UploadedFile } from "../api/upload";
import { problemOf, type ProblemView } from "../api/problem";

export interface UploadItem {
  key: string;
  name: string;
  progress: number;
  state: "uploading" | "done" | "failed";
  uploaded?: UploadedFile;
  problem?: ProblemView;
}

/** Files chosen in a form, each uploaded at once with its own progress; the form sends the references. */
export function useUploads(caseId?: string) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const controllers = useRef(new Map<string, AbortController>());

  const update = useCallback((key: string, change: Partial<UploadItem>) => {
    setItems((all) => all.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const add = useCallback(
    (files: FileList | File[]) => {
      for (const file of Array.from(files)) {
        const key = crypto.randomUUID();
        const controller = new AbortController();
        controllers.current.set(key, controller);
        setItems((all) => [...all, { key, name: file.name, progress: 0, state: "uploading" }]);
        uploadFile(file, {
          caseId,
          signal: controller.signal,
          onProgress: (progress) => update(key, { progress }),
        })
          .then((uploaded) => update(key, { state: "done", progress: 1, uploaded }))
          .catch((error: unknown) => {
            if (error instanceof DOMException && error.name === "AbortError") return;
            update(key, { state: "failed", problem: problemOf(error) });
          })
          .finally(() => controllers.current.delete(key));
      }
    },
    [caseId, update],
  );

  const remove = useCallback((key: string) => {
    controllers.current.get(key)?.abort();
    setItems((all) => all.filter((item) => item.key !== key));
  }, []);

  const clear = useCallback(() => setItems([]), []);

  const busy = items.some((i) => i.state === "uploading");
  const references = items.flatMap((i) => (i.uploaded ? [i.uploaded.reference] : []));
  return { items, add, remove, clear, busy, references };
}
