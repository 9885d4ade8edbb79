/**
 * The sim driver's "shared storage": a folder that every sim agent of a
 * cluster is given, holding one JSON definition per VM (`<vm>.json`). Each
 * agent writes the definitions of the VMs it runs; `POST /restarts` on
 * another agent reads one to start a lost host's VM there. Writes are atomic
 * (temporary file, then rename) so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DriverError, type VmDefinition } from "./driver.js";

/** VM names become file names: only these characters, so no name can escape the folder. */
export const VM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export class SimStorage {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(vm: string): string {
    if (!VM_NAME_PATTERN.test(vm)) throw new DriverError(400, `bad VM name ${JSON.stringify(vm)}: letters, digits, "_", "-", "." only`);
    return join(this.dir, `${vm}.json`);
  }

  write(def: VmDefinition): void {
    const path = this.file(def.name);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(def, null, 2) + "\n");
    renameSync(tmp, path);
  }

  /** The stored definition, or undefined when there is none; a damaged file is a 409 naming it. */
  read(vm: string): VmDefinition | undefined {
    const path = this.file(vm);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new DriverError(409, `cannot read ${path}: ${(e as Error).message}`);
    }
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new DriverError(409, `${path} is not valid JSON`);
    }
    const problem = checkDefinition(o);
    if (problem) throw new DriverError(409, `${path}: ${problem}`);
    return o as unknown as VmDefinition;
  }
}

/** Why `o` is not a usable VM definition, or null (`/incoming` bodies are checked by their schema instead). */
function checkDefinition(o: unknown): string | null {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return "must be an object";
  const d = o as Record<string, unknown>;
  if (typeof d.name !== "string" || !VM_NAME_PATTERN.test(d.name)) return "name must be a VM name";
  if (typeof d.mem !== "number" || !Number.isFinite(d.mem) || d.mem < 0) return "mem must be a number ≥ 0";
  if (typeof d.vcpus !== "number" || !Number.isInteger(d.vcpus) || d.vcpus < 1) return "vcpus must be an integer ≥ 1";
  if (typeof d.labels !== "object" || d.labels === null || Object.values(d.labels).some((v) => typeof v !== "string")) return "labels must map names to strings";
  if (typeof d.pinned !== "boolean") return "pinned must be true or false";
  if (typeof d.host !== "string") return "host must be a string";
  return null;
}
