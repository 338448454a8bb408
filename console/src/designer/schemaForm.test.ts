import { describe, expect, it } from "vitest";
import { inputFor, parseInput, showValue } from "./schemaForm";
import type { JsonSchema } from "./types";

// the shapes pydantic emits for pipelines/specs.py Step (GET /api/v1/designer/schema)
const step: JsonSchema = {
  properties: {
    kind: { enum: ["extract", "map"], type: "string" },
    mode: { anyOf: [{ enum: ["create", "update", "upsert"], type: "string" }, { type: "null" }] },
    include: { items: { type: "string" }, type: "array" },
    anomaly: { anyOf: [{ $ref: "#/$defs/AnomalySpec" }, { type: "null" }] },
    rules: { items: { type: "object" }, type: "array" },
    when: { anyOf: [{ type: "string" }, { type: "null" }] },
  },
  $defs: { AnomalySpec: { type: "object", properties: { kind: { enum: ["order"] } } } },
};

describe("inputFor", () => {
  it("picks an input per option from the schema", () => {
    expect(inputFor("mode", step)).toMatchObject({ kind: "select", options: ["create", "update", "upsert"] });
    expect(inputFor("include", step).kind).toBe("list");
    expect(inputFor("anomaly", step).kind).toBe("json");
    expect(inputFor("rules", step).kind).toBe("json");
    expect(inputFor("when", step)).toMatchObject({ kind: "text" });
    expect(inputFor("when", step).description).toMatch(/skipped/);
  });
});

describe("parseInput and showValue", () => {
  it("round-trips values and removes an emptied option", () => {
    const list = inputFor("include", step);
    expect(parseInput(list, showValue(list, ["customer", "carrier"]))).toEqual(["customer", "carrier"]);
    const json = inputFor("anomaly", step);
    expect(parseInput(json, showValue(json, { kind: "order", thresholds: { a: 1 } }))).toEqual({ kind: "order", thresholds: { a: 1 } });
    expect(parseInput(inputFor("when", step), "  ")).toBeNull();
  });
  it("refuses bad JSON and a value outside the choices", () => {
    expect(() => parseInput(inputFor("rules", step), "[{")).toThrow(/not valid JSON/);
    expect(() => parseInput(inputFor("mode", step), "delete")).toThrow(/create, update, upsert/);
  });
});
