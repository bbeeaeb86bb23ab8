import { describe, expect, it, vi } from "vitest";
import { createSession } from "./session";

function pair(token: string, expiresIn = 900) {
  return new Response(
    JSON.stringify({
      access_token: token,
      refresh_token: "ignored",
      token_type: "Bearer",
      expires_in: expiresIn,
    }),
    { status: 200, headers: { "Content-Type": "application/json" } },
  );
}

function api(path: string) {
  return new Request(new URL(path, window.location.origin));
}

describe("session", () => {
  it("test_start_refreshes_from_the_cookie_with_no_body", async () => {
    const seen: Request[] = [];
    const session = createSession({
      fetch: async (request) => {
        seen.push(request);
        return pair("fresh");
      },
    });
    await session.start();
    expect(seen).toHaveLength(1);
    const [refresh] = seen;
    expect(new URL(refresh!.url).pathname).toBe("/api/identity/sessions/refresh");
    expect(refresh!.method).toBe("POST");
    expect(refresh!.credentials).toBe("same-origin");
    expect(await refresh!.text()).toBe("");
    expect(session.getSnapshot()).toEqual({ status: "authenticated", accessToken: "fresh" });
  });

  it("test_start_without_a_cookie_is_anonymous", async () => {
    const session = createSession({ fetch: async () => new Response(null, { status: 401 }) });
    await session.start();
    expect(session.getSnapshot().status).toBe("anonymous");
  });

  it("test_a_401_refreshes_once_and_retries_with_the_new_token", async () => {
    const authorizations: (string | null)[] = [];
    let refreshes = 0;
    const session = createSession({
      fetch: async (request) => {
        if (request.url.endsWith("/sessions/refresh")) {
          refreshes += 1;
          return pair("second");
        }
        authorizations.push(request.headers.get("Authorization"));
        return request.headers.get("Authorization") === "Bearer second"
          ? new Response("{}", { status: 200 })
          : new Response(null, { status: 401 });
      },
    });
    session.accept({
      access_token: "first",
      refresh_token: "",
      token_type: "Bearer",
      expires_in: 900,
    });
    const response = await session.fetch(api("/api/cases"));
    expect(response.status).toBe(200);
    expect(refreshes).toBe(1);
    expect(authorizations).toEqual(["Bearer first", "Bearer second"]);
  });

  it("test_concurrent_401s_share_one_refresh", async () => {
    let refreshes = 0;
    const session = createSession({
      fetch: async (request) => {
        if (request.url.endsWith("/sessions/refresh")) {
          refreshes += 1;
          await new Promise((r) => setTimeout(r, 5));
          return pair("second");
        }
        return request.headers.get("Authorization") === "Bearer second"
          ? new Response("{}", { status: 200 })
          : new Response(null, { status: 401 });
      },
    });
    session.accept({
      access_token: "first",
      refresh_token: "",
      token_type: "Bearer",
      expires_in: 900,
    });
    const answers = await Promise.all([
      session.fetch(api("/api/cases")),
      session.fetch(api("/api/identity/me")),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(refreshes).toBe(1);
  });

  it("test_a_401_after_a_failed_refresh_logs_out_and_is_not_retried_again", async () => {
    let calls = 0;
    const session = createSession({
      fetch: async (request) => {
        calls += 1;
        if (request.url.endsWith("/sessions/refresh")) return new Response(null, { status: 401 });
        return new Response(null, { status: 401 });
      },
    });
    session.accept({
      access_token: "first",
      refresh_token: "",
      token_type: "Bearer",
      expires_in: 900,
    });
    const response = await session.fetch(api("/api/cases"));
    expect(response.status).toBe(401);
    expect(calls).toBe(2);
    expect(session.getSnapshot().status).toBe("anonymous");
  });

  it("test_the_token_is_refreshed_shortly_before_it_expires", async () => {
    let scheduled: { cb: () => void; ms: number } | null = null;
    const fetch = vi.fn(async () => pair("later", 600));
    const session = createSession({
      fetch,
      setTimer: (cb, ms) => {
        scheduled = { cb, ms };
        return 1;
      },
      clearTimer: () => undefined,
    });
    session.accept({
      access_token: "now",
      refresh_token: "",
      token_type: "Bearer",
      expires_in: 300,
    });
    expect(scheduled!.ms).toBe(270_000);
    scheduled!.cb();
    await vi.waitFor(() => expect(session.getSnapshot().accessToken).toBe("later"));
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("test_logout_forgets_the_token_and_tells_listeners_before_the_network_answers", async () => {
    const seen: Request[] = [];
    const session = createSession({
      fetch: async (request) => {
        seen.push(request);
        return new Response(null, { status: 204 });
      },
    });
    const onLogout = vi.fn();
    session.onLogout(onLogout);
    session.accept({ access_token: "t", refresh_token: "", token_type: "Bearer", expires_in: 900 });
    const done = session.logOut();
    expect(session.getSnapshot()).toEqual({ status: "anonymous", accessToken: null });
    expect(onLogout).toHaveBeenCalledTimes(1);
    await done;
    expect(seen[0]!.method).toBe("DELETE");
    expect(new URL(seen[0]!.url).pathname).toBe("/api/identity/sessions/current");
  });
});
