import { useCallback, useRef } from "react";

/**
 * One Idempotency-Key per form instance: the same key is sent on every retry until the server accepted the form, so a
 * double submit or a retry after a lost answer creates one thing. Call reset() after success.
 */
export function useIdempotencyKey() {
  const key = useRef<string | null>(null);
  const current = useCallback(() => (key.current ??= crypto.randomUUID()), []);
  const reset = useCallback(() => {
    key.current = null;
  }, []);
  return { current, reset };
}
