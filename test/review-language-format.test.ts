/**
 * Unary minus of something that itself starts with a minus prints with a
 * space (`- -1`), not as `--1`, which reads as a decrement or a typo.
 */
import { describe, expect, it } from "vitest";
import { formatPolicy } from "../grammar/format.js";

describe("printing nested unary minus", () => {
  it("separates two minus signs", () => {
    const out = formatPolicy("policy p\nlet x = - -1\nlet y = -(-1)\nlet z = 2 - -x\nlet w = - - -x\n", "t.policy").output;
    expect(out).toBe("policy p\n\nlet x = - -1\nlet y = -(-1)\nlet z = 2 - -x\nlet w = - - -x\n");
    expect(formatPolicy(out!, "t.policy").output).toBe(out);
  });
});
