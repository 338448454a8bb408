import { describe, expect, it } from "vitest";
import { href, parseHash } from "./router";

describe("hash routes", () => {
  it("round-trip parts and query, encoded", () => {
    const h = href(["messages", "01J/X"], { status: "dead", entity: undefined });
    expect(h).toBe("#/messages/01J%2FX?status=dead");
    expect(parseHash(h)).toEqual({ parts: ["messages", "01J/X"], query: { status: "dead" } });
    expect(parseHash("")).toEqual({ parts: [], query: {} });
  });
});
