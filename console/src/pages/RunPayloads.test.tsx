import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { StepPayload } from "../types";
import RunPayloads, { runDiffInputs } from "./RunPayloads";

afterEach(cleanup);

const step = (s: Partial<StepPayload> & { step: string }): StepPayload => ({ kind: "map", at: 0, payload: {}, truncated: false, size: 2, ...s });

describe("runDiffInputs", () => {
  it("compares with the extract step's record, and skips cut documents", () => {
    const steps = [
      step({ step: "extract", kind: "extract", payload: { reference: "R1" } }),
      step({ step: "map-a", payload: { Ref: "R1" } }),
      step({ step: "map-b", payload: '{"Ref":', truncated: true, size: 90000 }),
      step({ step: "load", kind: "load", payload: { SalesId: "SO-1" } }),
    ];
    const got = runDiffInputs(steps, { id: 1 });
    expect(got.source).toEqual({ reference: "R1" });
    expect(got.sourceStep).toBe("extract");
    expect(got.maps.map((m) => m.step)).toEqual(["map-a"]);
  });

  it("falls back to the message payload without an extract step", () => {
    const got = runDiffInputs([step({ step: "map-a", payload: { Ref: "R1" } })], { reference: "R1" });
    expect(got.source).toEqual({ reference: "R1" });
    expect(got.sourceStep).toBeNull();
  });
});

describe("RunPayloads", () => {
  it("lists each step's payload, marks a cut one, and diffs the chosen map step", () => {
    const run = {
      attempt: 2,
      steps: [
        step({ step: "extract", kind: "extract", payload: { reference: "R1", total: "9.50" } }),
        step({ step: "map-a", payload: { Ref: "R1" } }),
        step({ step: "map-b", payload: { Amount: "9.50", Currency: "EUR" }, size: 30 }),
        step({ step: "big", kind: "load", payload: '{"x":', truncated: true, size: 70000 }),
      ],
    };
    render(<RunPayloads run={run} messagePayload={{}} />);
    expect(screen.getByRole("heading", { name: /attempt 2/ })).toBeTruthy();
    expect(screen.getByRole("list", { name: "Step payloads" }).querySelectorAll("li")).toHaveLength(4);
    expect(screen.getByText(/truncated: first 64 KiB shown/)).toBeTruthy();
    const table = screen.getByRole("table", { name: "Source vs mapped from the run" });
    expect(table.textContent).toContain("Amount"); // the biggest map document by default
    expect(table.textContent).toContain("total");
    fireEvent.change(screen.getByLabelText("Mapped document"), { target: { value: "map-a" } });
    const again = screen.getByRole("table", { name: "Source vs mapped from the run" });
    expect(again.textContent).toContain("Ref");
    expect(again.textContent).toContain("reference");
  });

  it("says when nothing was journaled", () => {
    render(<RunPayloads run={{ attempt: null, steps: [] }} messagePayload={{}} />);
    expect(screen.getByText(/No step payloads were journaled/)).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });
});
