import { useCallback, useRef } from "react";

/**
 * Runs one submit at a time. A double click delivers both clicks before React re-renders the disabled button, so
 * the pending flag alone lets the second one through; this ref does not.
 */
export function useExclusive() {
  const busy = useRef(false);
  return useCallback((run: () => Promise<unknown>) => {
    if (busy.current) return;
    busy.current = true;
    run()
      .catch(() => undefined)
      .finally(() => {
        busy.current = false;
      });
  }, []);
}
