import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "../session/session";

/** The one API client, generated from the gateway's combined OpenAPI document (src/api/openapi.json). */
export const api = createClient<paths>({
  baseUrl: window.location.origin,
  fetch: (request) => session.fetch(request),
});

export type Schemas = components["schemas"];
