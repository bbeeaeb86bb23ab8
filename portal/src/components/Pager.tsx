import { useState } from "react";

export interface PagerProps {
  cursor: string | null;
  nextCursor: string | null | undefined;
  prev: (string | null)[];
  go: (cursor: string | null, stack: (string | null)[]) => void;
}

/**
 * "Previous" and "Next" over cursors: the cursors of the pages before this one are kept in history state (prev), so
 * Back, reload and "Previous" work without server support for paging backwards.
 */
export function Pager({ cursor, nextCursor, prev, go }: PagerProps) {
  return (
    <div className="pager">
      {prev.length > 0 && (
        <button type="button" onClick={() => go(prev[prev.length - 1] ?? null, prev.slice(0, -1))}>
          Previous
        </button>
      )}
      {nextCursor && (
        <button type="button" onClick={() => go(nextCursor, [...prev, cursor])}>
          Next
        </button>
      )}
    </div>
  );
}

/** A search field's text that follows the URL's q when Back or a reload brings another one. */
export function useSearchText(q: string): [string, (text: string) => void] {
  const [text, setText] = useState(q);
  const [shownQ, setShownQ] = useState(q);
  if (shownQ !== q) {
    setShownQ(q);
    setText(q);
  }
  return [text, setText];
}
