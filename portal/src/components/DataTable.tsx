import type { ReactNode } from "react";
import { problemOf } from "../api/problem";
import { Pager, type PagerProps } from "./Pager";
import { ProblemMessage } from "./ProblemMessage";

/** One column: its header (also the cell's name when narrow screens turn rows into cards) and what a row shows. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

/** What a table shows: the rows (undefined until the first answer), whether they load, and why they failed. */
export interface TableSource<T> {
  rows: T[] | undefined;
  loading: boolean;
  error: unknown;
  /** The rows shown are the previous answer's while the next one loads (keepPreviousData). */
  stale?: boolean;
}

interface QueryLike<D> {
  data?: D | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  isPlaceholderData?: boolean;
}

/** A TanStack query of a list as a table's source. */
export function listSource<T>(query: QueryLike<T[]>): TableSource<T> {
  return {
    rows: query.data,
    loading: query.isPending,
    error: query.isError ? query.error : null,
    stale: query.isPlaceholderData ?? false,
  };
}

/** A TanStack query of one page ({ items, next_cursor }) as a table's source. */
export function pageSource<T>(query: QueryLike<{ items: T[] }>): TableSource<T> {
  return listSource({ ...query, data: query.data?.items });
}

/**
 * The portal's tables (My Cases, Queue, Users, Activity History): a problem when the rows failed, the empty state
 * when there are none, the table, "Loading…" while the first rows come, and the pager under it when there is one.
 */
export function DataTable<T>({
  caption,
  className,
  columns,
  source,
  rowKey,
  rowClassName,
  empty,
  pager,
}: {
  /** Read by screen readers (the table's accessible name); not shown. */
  caption: string;
  className?: string;
  columns: Column<T>[];
  source: TableSource<T>;
  rowKey: (row: T) => string;
  rowClassName?: (row: T) => string | undefined;
  empty: ReactNode;
  pager?: PagerProps;
}) {
  const { rows, loading, error, stale = false } = source;
  return (
    <>
      {error != null && <ProblemMessage problem={problemOf(error)} />}
      {rows && rows.length === 0 && <p className="empty">{empty}</p>}
      {rows && rows.length > 0 && (
        <div className="table-wrap">
          <table className={className} aria-busy={stale || undefined}>
            <caption className="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column.header} scope="col">
                    {column.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)} className={rowClassName?.(row)}>
                  {columns.map((column) => (
                    <td key={column.header} data-label={column.header}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loading && <p className="loading">Loading…</p>}
      {pager && <Pager {...pager} />}
    </>
  );
}
