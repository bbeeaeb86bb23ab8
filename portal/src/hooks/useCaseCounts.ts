/**
 * The All / Open / Closed counts. The cases service's GET /api/cases/counts is not in the combined OpenAPI document
 * yet; until it is, My Cases shows the filters without counts.
 */
export function useCaseCounts(
  q: string,
): { all: number; open: number; closed: number } | undefined {
  void q;
  return undefined;
}
