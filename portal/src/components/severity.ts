/**
 * Severity names and descriptions as shown before the cases service's GET /api/cases/severities is in the combined
 * OpenAPI document; the levels themselves (1-3) are the API's. Wording follows ARCHITECTURE.md.
 */
export const SEVERITY_LEVELS = [
  {
    level: 1,
    name: "Critical",
    description: "Production stopped or severely impacted, no workaround.",
  },
  {
    level: 2,
    name: "Major",
    description: "A major function is impaired; a workaround may exist.",
  },
  {
    level: 3,
    name: "Minor",
    description: "A minor problem, a question or a request.",
  },
] as const;

export function severityName(level: number): string {
  const found = SEVERITY_LEVELS.find((s) => s.level === level);
  return found ? `${level} - ${found.name}` : String(level);
}
