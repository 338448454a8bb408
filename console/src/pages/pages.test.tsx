import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getToken } from "../api";
import { layout } from "../components/Waterfall";
import Login from "../Login";
import type { Message, Series, Span } from "../types";
import { limiterText, progress } from "./BulkRuns";
import { byEntity } from "./Dashboard";
import { filterDead } from "./DeadLetters";
import { flowVersions } from "./MessageDetail";
import { parseEdit } from "./Review";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("Login", () => {
  it("keeps a token only after the bridge accepted it, and shows the refusal otherwise", async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(new Response(JSON.stringify({ error: "unauthorized", detail: "The admin token is not valid." }), { status: 401 }))
      .mockResolvedValueOnce(new Response(JSON.stringify({ status: "ok" }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const onLogin = vi.fn();
    render(<Login onLogin={onLogin} />);
    const input = screen.getByLabelText("Admin token");
    fireEvent.change(input, { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "The admin token is not valid.");
    expect(getToken()).toBeNull();
    expect(onLogin).not.toHaveBeenCalled();

    fireEvent.change(input, { target: { value: "right" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(onLogin).toHaveBeenCalledOnce());
    expect(getToken()).toBe("right");
    const [, init] = fetchMock.mock.calls[1] as [string, RequestInit];
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer right");
  });
});

describe("dashboard series", () => {
  it("sums an entity's flows and its received-only series bucket by bucket", () => {
    const s: Series[] = [
      { flow: null, entity: "order", received: [1, 2], done: [0, 0], failed: [0, 0] },
      { flow: "a", entity: "order", received: [0, 0], done: [1, 1], failed: [0, 1] },
      { flow: "b", entity: "order", received: [0, 0], done: [0, 2], failed: [0, 0] },
      { flow: "c", entity: "stock", received: [0, 0], done: [5, 0], failed: [0, 0] },
    ];
    const [order, stock] = byEntity(s);
    expect(order).toEqual({ entity: "order", flows: ["a", "b"], received: [1, 2], done: [1, 3], failed: [0, 1] });
    expect(stock.done).toEqual([5, 0]);
  });
});

describe("dead letters filter", () => {
  const m = (key: string, message: string) => ({ id: key, entity: "order", key, event: "order.created", last_error: { type: "ValidationError", message } }) as unknown as Message;
  it("matches key, event and error text without case", () => {
    const items = [m("1", "Item A0009 not found"), m("2", "Customer blocked")];
    expect(filterDead(items, "a0009").map((x) => x.key)).toEqual(["1"]);
    expect(filterDead(items, "validationerror")).toHaveLength(2);
    expect(filterDead(items, "  ")).toHaveLength(2);
  });
});

describe("review edit", () => {
  it("accepts an object of fields and explains anything else", () => {
    expect(parseEdit('{"quantity": 2}')).toEqual({ quantity: 2 });
    expect(parseEdit("[1]")).toMatch(/must be an object/);
    expect(parseEdit("{}")).toMatch(/changes no field/);
    expect(parseEdit("{nope")).toMatch(/not valid JSON/);
  });
});

describe("bulk progress", () => {
  it("is unknown while listing, a percentage after, 100 when done", () => {
    expect(progress({ listed: 10, listing_done: false, keys_done: 5, status: "running" })).toBeNull();
    expect(progress({ listed: 8, listing_done: true, keys_done: 2, status: "running" })).toBe(25);
    expect(progress({ listed: 0, listing_done: true, keys_done: 0, status: "done" })).toBe(100);
  });
  it("words the limiter's state", () => {
    expect(limiterText({ limit: 2, max: 8, ceiling: 8, in_use: 0, halvings: 1 })).toBe("limiter: writes in flight allowed 2 of 8, 0 in use, backed off 1×");
    expect(limiterText({ other: 1 })).toBe('limiter: {"other":1}');
  });
});

describe("trace waterfall layout", () => {
  it("puts children under parents ordered by start; orphans at the top level", () => {
    const sp = (id: string, parent: string | null, start: number): Span => ({ span_id: id, parent_id: parent, name: id, start_us: start, duration_us: 1, service: null, error: false, attrs: {} });
    const rows = layout([sp("c2", "root", 20), sp("root", null, 0), sp("c1", "root", 10), sp("g", "c1", 11), sp("orphan", "gone", 5)]);
    expect(rows.map((r) => `${r.span.span_id}:${r.depth}`)).toEqual(["root:0", "c1:1", "g:2", "c2:1", "orphan:0"]);
  });
});

describe("flow versions of a timeline", () => {
  it("lists each version once in order", () => {
    const ev = (v?: string) => ({ at: 0, kind: "attempt_failed", attempt: 1, detail: v ? { flow_version: v } : null });
    expect(flowVersions([ev("v1"), ev(), ev("v1"), ev("v2")])).toEqual(["v1", "v2"]);
  });
});
