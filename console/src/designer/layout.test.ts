import { describe, expect, it } from "vitest";
import { flowGraph, linkPath, mappingLinks, triggerLabel } from "./layout";
import { formFromRule, ruleFromForm, ruleSummary, sourcesOf, unmappedTargets, EMPTY_FORM } from "./rules";
import type { FlowSpec } from "./types";

const flow: FlowSpec = {
  flow: "f",
  entity: "order",
  triggers: [
    { type: "webhook", source: "prestashop", event: "order.created" },
    { type: "poll", source: "prestashop", resource: "orders", every: "1m" },
  ],
  steps: [
    { id: "extract", kind: "extract", system: "prestashop", operation: "orders.get" },
    { id: "map", kind: "map", mapping: "m", output: "doc" },
    { id: "load", kind: "load" },
  ],
};

describe("flowGraph", () => {
  it("links every trigger to the first step and each step to the next, in one column", () => {
    const { nodes, edges } = flowGraph(flow, "map");
    expect(nodes.map((n) => n.id)).toEqual(["trigger-0", "trigger-1", "step-extract", "step-map", "step-load"]);
    expect(edges.map((e) => `${e.source}>${e.target}`)).toEqual([
      "trigger-0>step-extract",
      "trigger-1>step-extract",
      "step-extract>step-map",
      "step-map>step-load",
    ]);
    const steps = nodes.filter((n) => n.id.startsWith("step-"));
    expect(new Set(steps.map((n) => n.position.x)).size).toBe(1);
    const ys = steps.map((n) => n.position.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    expect(Math.min(...ys)).toBeGreaterThan(nodes[0].position.y);
    expect(nodes.find((n) => n.id === "step-map")?.selected).toBe(true);
    expect(nodes.find((n) => n.id === "step-map")?.data.detail).toBe("mapping m · → doc");
  });
  it("labels triggers", () => {
    expect(triggerLabel(flow.triggers[1])).toBe("poll prestashop: orders every 1m");
  });
  it("a flow without steps has no edges", () => {
    expect(flowGraph({ ...flow, steps: [] }).edges).toEqual([]);
  });
});

describe("mappingLinks", () => {
  it("draws a line per source a rule reads, between the listed rows", () => {
    const sources = ["id_customer", "customer.email", "total_paid", "conversion_rate"];
    const targets = ["CustAccount", "Email", "CustGroup", "Missing"];
    const links = mappingLinks(sources, targets, {
      CustAccount: { expr: "concat('PS-', id_customer)" },
      Email: "customer.email",
      CustGroup: { cases: [{ if: "total_paid / conversion_rate > 1000", then: "HIGH" }], else: "RETAIL" },
      Unlisted: "reference",
    });
    expect(links.map((l) => `${l.sourceRow}>${l.targetRow}`)).toEqual(["0>0", "1>1", "2>2", "3>2"]);
    expect(linkPath(links[1], 100, 20)).toBe("M 0 30 C 50 30, 50 30, 100 30");
  });
});

describe("rules", () => {
  it("round-trips a rule through the form, keeping options the form does not show", () => {
    const rule = { from: "carrier.name", lookup: "carrier", currency: { rate: "conversion_rate" }, convert: { to: "decimal", places: 2 } };
    expect(ruleFromForm(formFromRule(rule))).toEqual(rule);
    expect(ruleFromForm(formFromRule("customer.email"))).toBe("customer.email");
  });
  it("writes the short form, conditions, and refuses an empty rule", () => {
    expect(ruleFromForm({ ...EMPTY_FORM, from: "a.b" })).toBe("a.b");
    expect(ruleFromForm({ ...EMPTY_FORM, from: "a.b", default: "x" })).toEqual({ from: "a.b", default: "x" });
    expect(ruleFromForm({ ...EMPTY_FORM, kind: "cases", cases: [{ if: "x > 1", then: "A" }], else: "B" })).toEqual({
      cases: [{ if: "x > 1", then: "A" }],
      else: "B",
    });
    expect(() => ruleFromForm({ ...EMPTY_FORM })).toThrow(/value/);
    expect(() => ruleFromForm({ ...EMPTY_FORM, kind: "cases" })).toThrow(/condition/);
  });
  it("finds the sources of a rule and summarises it", () => {
    expect(sourcesOf({ from: ["a", "b"] }, [])).toEqual(["a", "b"]);
    expect(sourcesOf({ expr: "str(id) + reference" }, ["id", "reference", "x"])).toEqual(["id", "reference"]);
    expect(ruleSummary({ from: "module", lookup: "payment_module" })).toBe("module (lookup payment_module)");
  });
  it("offers unmapped writable targets, required first", () => {
    const t = unmappedTargets(
      [
        { name: "B", type: "string", required: false, max_length: null, enum: null },
        { name: "A", type: "string", required: true, max_length: null, enum: null },
        { name: "Done", type: "string", required: true, max_length: null, enum: null },
        { name: "_Hash", type: "string", required: false, max_length: null, enum: null },
      ],
      { Done: "x" },
    );
    expect(t.map((f) => f.name)).toEqual(["A", "B"]);
  });
});
