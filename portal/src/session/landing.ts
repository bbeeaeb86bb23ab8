import { isAgentRole } from "../agent/roles";

/** Only a path inside the portal, never another origin, is a place to go back to after login. */
export function safeNext(next: string | null | undefined): string | null {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")
    ? next
    : null;
}

/**
 * Where someone lands after login (or on "/") when they asked for no page: the support team works from the Queue,
 * a customer from My Cases. While the role is unknown (undefined), a customer's page is the safe guess.
 */
export function landingPath(role: string | undefined): string {
  return isAgentRole(role) ? "/queue" : "/cases";
}
