/**
 * Reads a facts snapshot file (SPEC 1) for `vmpolicy plan --facts` and policy
 * tests. The file is read through the fast path's 64 KiB window, so a large
 * snapshot is never held whole; only when the fast path cannot read it is the
 * file read again whole, for `parseFactsJson` to report what is wrong.
 * An unreadable file throws the file system's error, for the caller to name.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { factsText, type FactsResult, parseFactsJson, parseFactsSource } from "./plan/facts.js";

export function readFactsFile(file: string): FactsResult {
  const fd = openSync(file, "r");
  try {
    const stat = fstatSync(fd);
    // A pipe (`--facts /dev/stdin`) cannot be read a second time: it is read whole, once.
    if (!stat.isFile()) return parseFactsJson(factsText(readFileSync(fd)), file);
    return parseFactsSource((into, offset, length) => readSync(fd, into, offset, length, null), stat.size, () => readFileSync(file), file);
  } finally {
    closeSync(fd);
  }
}
