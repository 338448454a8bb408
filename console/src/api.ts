/**
 * The console's one door to the bridge's admin API (`/api/v1`, Bearer token).
 *
 * Contract:
 * - The admin token lives in sessionStorage only (gone when the tab closes), set by the login
 *   screen through `setToken`.
 * - `api()` sends it as `Authorization: Bearer …`, decodes JSON, and throws an `ApiError`
 *   carrying the server's `{error, detail}` for any non-2xx answer.
 * - A 401 also forgets the token and fires `LOGOUT_EVENT` on window, so the app returns to the
 *   login screen wherever the call was made.
 */

const TOKEN_KEY = "presta-ax.admin-token";
export const LOGOUT_EVENT = "presta-ax:logout";

/** Where the API lives: same origin as the console (the bridge serves both). */
export const API_BASE = "/api/v1";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A non-2xx answer: `status` is the HTTP status, `code` and `detail` come from the body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;

  constructor(status: number, code: string, detail: string) {
    super(detail || `${status} ${code}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** `path` with the non-empty query values appended, each encoded. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface ApiOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  query?: Query;
  /** The token to use instead of the stored one (the login screen checks a candidate). */
  token?: string;
  signal?: AbortSignal;
}

/** Call `API_BASE + path`; resolves to the decoded JSON body (or null for an empty body). */
export async function api<T = unknown>(path: string, opts: ApiOptions = {}): Promise<T> {
  const token = opts.token ?? getToken() ?? "";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(withQuery(API_BASE + path, opts.query), {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    signal: opts.signal,
  });
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: "bad_response", detail: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    const err = (data ?? {}) as { error?: string; detail?: string };
    if (res.status === 401 && opts.token === undefined) {
      clearToken();
      window.dispatchEvent(new Event(LOGOUT_EVENT));
    }
    throw new ApiError(res.status, err.error ?? "http_error", err.detail ?? `The bridge answered ${res.status}.`);
  }
  return data as T;
}

/** A short sentence for any thrown value, for an error banner. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.detail;
  if (e instanceof Error) return e.message;
  return String(e);
}
