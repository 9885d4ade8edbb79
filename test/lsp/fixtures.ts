/**
 * The policies the language-server tests edit: a folder with two policies
 * (a document is checked with the other `.policy` files of its folder).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { LspClient } from "./client.js";

/** A policy with one of each kind of declaration; line numbers are used by the tests. */
export const DEMO = `policy demo

param band = 10

let mean = avg(host.load for host where host.state == up)
let upper = mean + max(band, 0)

group heavy when host.load > upper
group rest otherwise

constraint apart
  when vm.labels.tier == "db"
  require no vm in host.vms as other where other.labels.tier == "db"

rule balance
  for each heavy host as src by src.load desc
  let dst = pick rest host where not host.busy by host.load asc
  let vm = pick vm in src.vms where can_move(vm, dst) by vm.cpu desc
  then migrate vm to dst
`;

export const OTHER = `policy other

rule drain priority 100
  for each host where host.state == maintenance and host.vm_count > 0
  then evacuate host
`;

/** A temporary folder holding demo.policy and other.policy; `cleanup` removes it. */
export function policyFolder(files: Record<string, string> = { "demo.policy": DEMO, "other.policy": OTHER }): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-lsp-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A server (started with `args`) with `text` open at `uri`, its first diagnostics checked empty. */
export async function serverWith(uri: string, text: string, args: string[] = []): Promise<LspClient> {
  const client = new LspClient(args);
  await client.initialize();
  client.open(uri, text, 1);
  expect(await client.diagnostics(uri, 1)).toEqual([]);
  return client;
}

/** Stops a test's server: no handler failed (nothing logged) and it exits 0 on `exit`. */
export async function stopClean(client: LspClient): Promise<void> {
  expect(client.logs).toEqual([]);
  expect(await client.stop()).toBe(0);
}
