import { useCallback, useRef } from "react";

/**
 * One Idempotency-Key per form instance: the same key goes with every retry until the server accepts the form, so a
 * retry after a lost answer creates one thing. After a success the key changes only when the content does: a second
 * click that lands after the first answer (before the form has re-rendered) repeats the key, and the server answers
 * it with the first result instead of a second case or comment.
 */
export function useIdempotencyKey() {
  const pending = useRef<string | null>(null);
  const accepted = useRef<{ key: string; content: string } | null>(null);

  const current = useCallback((content: unknown) => {
    const text = JSON.stringify(content);
    if (accepted.current?.content === text) return accepted.current.key;
    pending.current ??= crypto.randomUUID();
    return pending.current;
  }, []);

  const succeeded = useCallback((content: unknown) => {
    if (pending.current)
      accepted.current = { key: pending.current, content: JSON.stringify(content) };
    pending.current = null;
  }, []);

  return { current, succeeded };
}
