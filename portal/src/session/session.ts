import type { components } from "../api/schema";

type TokenPair = components["schemas"]["TokenPairRead"];

export type SessionStatus = "starting" | "anonymous" | "authenticated";

export interface SessionSnapshot {
  status: SessionStatus;
  accessToken: string | null;
}

interface Options {
  fetch?: (request: Request) => Promise<Response>;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const REFRESH_PATH = "/api/identity/sessions/refresh";
const LOGOUT_PATH = "/api/identity/sessions/current";
// Refresh this long before the access token expires, so a request in flight never carries a stale token.
const REFRESH_MARGIN_MS = 30_000;
const MIN_REFRESH_DELAY_MS = 5_000;

/**
 * The browser session: the access token lives only in memory; the refresh token is the HttpOnly cookie identity sets
 * on /api/identity/sessions, so page scripts never see it. The session refreshes on start, shortly before the access
 * token expires, and once when a request answers 401.
 */
export function createSession(options: Options = {}) {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const setTimer = options.setTimer ?? ((cb: () => void, ms: number) => window.setTimeout(cb, ms));
  const clearTimer = options.clearTimer ?? ((h: unknown) => window.clearTimeout(h as number));

  let snapshot: SessionSnapshot = { status: "starting", accessToken: null };
  let timer: unknown = null;
  let inflight: Promise<boolean> | null = null;
  let started: Promise<void> | null = null;
  const listeners = new Set<() => void>();
  const logoutListeners = new Set<() => void>();

  function set(next: SessionSnapshot) {
    snapshot = next;
    listeners.forEach((l) => l());
  }

  function schedule(expiresInSeconds: number) {
    if (timer !== null) clearTimer(timer);
    const delay = Math.max(expiresInSeconds * 1000 - REFRESH_MARGIN_MS, MIN_REFRESH_DELAY_MS);
    timer = setTimer(() => void refresh(), delay);
  }

  function accept(pair: TokenPair) {
    schedule(pair.expires_in);
    set({ status: "authenticated", accessToken: pair.access_token });
  }

  function clear() {
    if (timer !== null) clearTimer(timer);
    timer = null;
    set({ status: "anonymous", accessToken: null });
  }

  /** Trade the refresh cookie for a new access token; concurrent callers share one request. */
  function refresh(): Promise<boolean> {
    if (inflight) return inflight;
    // Sent without the 401 retry below (a failed refresh must not trigger another refresh), with no body: the
    // refresh token travels in the HttpOnly cookie.
    const request = new Request(new URL(REFRESH_PATH, window.location.origin), {
      method: "POST",
      credentials: "same-origin",
    });
    inflight = send(request)
      .then(async (response) => {
        if (!response.ok) {
          clear();
          return false;
        }
        accept((await response.json()) as TokenPair);
        return true;
      })
      .catch(() => {
        clear();
        return false;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  function start(): Promise<void> {
    started ??= refresh().then(() => undefined);
    return started;
  }

  function withToken(request: Request, token: string | null): Request {
    const copy = new Request(request);
    if (token) copy.headers.set("Authorization", `Bearer ${token}`);
    return copy;
  }

  /** fetch for the API client: adds the bearer token, and on a 401 refreshes once and retries. */
  async function authFetch(request: Request): Promise<Response> {
    if (snapshot.status === "starting" && started) await started;
    const token = snapshot.accessToken;
    const retry = token ? request.clone() : null;
    const response = await send(withToken(request, token));
    if (response.status !== 401 || !retry) return response;
    const refreshed = await refresh();
    if (!refreshed) return response;
    return send(withToken(retry, snapshot.accessToken));
  }

  async function logOut(): Promise<void> {
    const token = snapshot.accessToken;
    clear();
    logoutListeners.forEach((l) => l());
    const request = new Request(new URL(LOGOUT_PATH, window.location.origin), {
      method: "DELETE",
      credentials: "same-origin",
    });
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    // Local state is already gone; a failed network call must not keep the person logged in on this page.
    await send(request).catch(() => undefined);
  }

  return {
    getSnapshot: () => snapshot,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onLogout(listener: () => void) {
      logoutListeners.add(listener);
      return () => logoutListeners.delete(listener);
    },
    start,
    refresh,
    accept,
    logOut,
    /** Drops the in-memory session without calling identity (after a revocation answer, and between tests). */
    forget: clear,
    fetch: authFetch,
  };
}

export type Session = ReturnType<typeof createSession>;

export const session = createSession();
