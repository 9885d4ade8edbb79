/**
 * Where a server may listen. Both the engine and the host agent take a
 * `HOST:PORT` and must refuse to listen beyond loopback without a token
 * (SPEC 5, 6): an open migration API on a network is a way to move or start
 * anyone's VMs. One parser and one rule, so both servers behave the same.
 */
import { isIP } from "node:net";

export type ListenResult =
  | { readonly ok: true; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly message: string };

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT` or a bare `PORT` (meaning 127.0.0.1).
 * Port 0 asks for an ephemeral port. Returns a message naming the bad input
 * rather than throwing.
 */
export function parseListen(addr: string): ListenResult {
  const text = addr.trim();
  const bad = (why: string): ListenResult => ({ ok: false, message: `bad listen address ${JSON.stringify(addr)}: ${why} (expected HOST:PORT such as 127.0.0.1:7071)` });
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) return bad(`${host} is not an IPv6 address`);
  } else if (/^\d+$/.test(text)) {
    host = "127.0.0.1";
    portText = text;
  } else {
    const i = text.lastIndexOf(":");
    if (i <= 0) return bad("no port");
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(":")) return bad("write an IPv6 address in brackets, e.g. [::1]:7071");
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return bad(`${JSON.stringify(host)} is not a host name or address`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return bad(`port ${JSON.stringify(portText)} is not 0-65535`);
  return { ok: true, host, port: Number(portText) };
}

/** True for 127.0.0.0/8, ::1 (and its IPv4-mapped form ::ffff:127.x.y.z) and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4) return isIP(h.replace(/^::ffff:/, "")) === 4 && v4[1] === "127";
  if (isIP(h) === 6) return /^(0{0,4}:){2,7}0{0,4}1$/.test(h) && h !== "::" && expandsToLoopback(h);
  return false;
}

function expandsToLoopback(h: string): boolean {
  // "::1", "0:0:0:0:0:0:0:1", "0::1": every group zero except a final 1.
  const [head, tail] = h.includes("::") ? h.split("::") : [h, ""];
  const groups = [...(head ? head.split(":") : []), ...(tail ? tail.split(":") : [])];
  const last = groups.pop();
  return last !== undefined && parseInt(last, 16) === 1 && groups.every((g) => parseInt(g || "0", 16) === 0);
}

/**
 * Null when a server may listen on `host`; otherwise the refusal to show the
 * operator. Loopback is always allowed; anything else (0.0.0.0, ::, a LAN
 * address, a host name) needs a token.
 */
export function checkListen(host: string, hasToken: boolean): string | null {
  if (hasToken || isLoopback(host)) return null;
  return `refusing to listen on ${host} without a token: anyone who can reach it could move or start VMs; give a token (--token-file) or listen on 127.0.0.1`;
}
