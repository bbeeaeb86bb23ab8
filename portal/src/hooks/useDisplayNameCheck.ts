/**
 * Whether a display name is taken, asked while the person types. Identity's availability route
 * (GET /api/identity/display-names/availability) is not in the combined OpenAPI document yet, so until it lands
 * this says nothing before submit and the taken name is shown beside the field from the sign-up answer (409).
 */
export function useDisplayNameCheck(displayName: string): string | null {
  void displayName;
  return null;
}
