import { describe, expect, it } from "vitest";
import { age, epochOf, flatten, mappingDiff, show } from "./format";

describe("age", () => {
  it("rounds to the unit a reader wants", () => {
    expect(age(0)).toBe("0 s");
    expect(age(59.4)).toBe("59 s");
    expect(age(61)).toBe("1 min");
    expect(age(3600 + 5 * 60)).toBe("1 h 5 min");
    expect(age(7200)).toBe("2 h");
    expect(age(3 * 86400 + 5)).toBe("3 d");
    expect(age(null)).toBe("—");
    expect(age(-5)).toBe("0 s");
  });
});

describe("flatten", () => {
  it("names nested fields by path, arrays by index", () => {
    expect(flatten({ a: { b: 1 }, c: [{ d: "x" }, 2], e: [] })).toEqual({ "a.b": 1, "c[0].d": "x", "c[1]": 2, e: [] });
  });
});

describe("mappingDiff", () => {
  it("finds where each mapped value came from and what was not used", () => {
    const source = { id: 7, reference: "XKB", customer: { email: "***", id: 12 }, note: "hi" };
    const mapped = { PurchOrderFormNum: "XKB", CustAccount: "C-12", Lines: [{ Qty: 12 }], Mail: "***" };
    const { rows, unused } = mappingDiff(source, mapped);
    const by = Object.fromEntries(rows.map((r) => [r.target, r.from]));
    expect(by.PurchOrderFormNum).toEqual(["reference"]);
    expect(by.CustAccount).toEqual([]); // computed: no source field holds "C-12"
    expect(by["Lines[0].Qty"]).toEqual(["customer.id"]);
    expect(by.Mail).toEqual([]); // masked values never match
    expect(unused.sort()).toEqual(["customer.email", "id", "note"]);
  });
});

describe("epochOf / show", () => {
  it("parses a local datetime and shows values compactly", () => {
    expect(epochOf("")).toBeUndefined();
    expect(epochOf("2026-12-07T10:00")).toBe(new Date("2026-12-07T10:00").getTime() / 1000);
    expect(show({ a: 1 })).toBe('{"a":1}');
    expect(show(null)).toBe("—");
  });
});
