import { describe, expect, it } from "vitest";
import { HOST_FIELDS, VM_FIELDS } from "../../grammar/check-types.js";
import { HOST_FIELD_DOCS, VM_FIELD_DOCS } from "../../stdlib/fields.js";

describe("field documentation (hover and completion in the language server)", () => {
  it("documents exactly the fields the checker knows, host and vm", () => {
    expect(Object.keys(HOST_FIELD_DOCS)).toEqual([...HOST_FIELDS.keys()]);
    expect(Object.keys(VM_FIELD_DOCS)).toEqual([...VM_FIELDS.keys()]);
    for (const doc of [...Object.values(HOST_FIELD_DOCS), ...Object.values(VM_FIELD_DOCS)]) expect(doc).toMatch(/^\S.*\.$/);
  });
});
