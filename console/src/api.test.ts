import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, getToken, LOGOUT_EVENT, setToken, withQuery } from "./api";

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status }));
}

describe("api", () => {
  it("sends the stored token and drops empty query values", async () => {
    setToken("  tok-1 ");
    const fetchMock = answer(200, { items: [] });
    vi.stubGlobal("fetch", fetchMock);
    await expect(api("/messages", { query: { status: "dead", entity: "" } })).resolves.toEqual({ items: [] });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/messages?status=dead");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok-1");
  });

  it("turns a 401 into a logout: token forgotten, event fired", async () => {
    setToken("old");
    vi.stubGlobal("fetch", answer(401, { error: "unauthorized", detail: "The admin token is not valid." }));
    const seen = vi.fn();
    window.addEventListener(LOGOUT_EVENT, seen);
    const err = await api("/health").catch((e) => e);
    window.removeEventListener(LOGOUT_EVENT, seen);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).detail).toBe("The admin token is not valid.");
    expect(getToken()).toBeNull();
    expect(seen).toHaveBeenCalledOnce();
  });

  it("a candidate token that is refused does not log anyone out", async () => {
    setToken("good");
    vi.stubGlobal("fetch", answer(401, { error: "unauthorized", detail: "no" }));
    await expect(api("/health", { token: "bad" })).rejects.toBeInstanceOf(ApiError);
    expect(getToken()).toBe("good");
  });

  it("posts JSON bodies", async () => {
    const fetchMock = answer(200, { replayed: ["a"] });
    vi.stubGlobal("fetch", fetchMock);
    await api("/dlq/replay", { body: { ids: ["a"] } });
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"ids":["a"]}');
    expect(withQuery("/x", { a: 1, b: null })).toBe("/x?a=1");
  });
});
