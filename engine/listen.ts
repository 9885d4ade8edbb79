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
 * `localhost` becomes 127.0.0.1: the server binds the loopback address
 * itself, so a hosts file mapping the name elsewhere cannot open it to a
 * network without a token. Port 0 asks for an ephemeral port. Returns a
 * message naming the bad input rather than throwing.
 */
export function parseListen(addr: string): ListenResult {
  const r = listenParts(addr);
  return "why" in r ? { ok: false, message: `bad listen address ${JSON.stringify(addr)}: ${r.why} (expected HOST:PORT such as 127.0.0.1:7071)` } : { ok: true, ...r };
}

/** The host and port of a listen address, or why it is not one (the config checker words it its own way). */
export function listenParts(addr: string): { readonly host: string; readonly port: number } | { readonly why: string } {
  const text = addr.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) return { why: `${host} is not an IPv6 address` };
  } else if (/^\d+$/.test(text)) {
    host = "127.0.0.1";
    portText = text;
  } else {
    const i = text.lastIndexOf(":");
    if (i <= 0) return { why: "no port" };
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(":")) return { why: "write an IPv6 address in brackets, e.g. [::1]:7071" };
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return { why: `${JSON.stringify(host)} is not a host name or address` };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return { why: `port ${JSON.stringify(portText)} is not 0-65535` };
  if (host.toLowerCase() === "localhost") host = "127.0.0.1";
  return { host, port: Number(portText) };
}

/**
 * True for 127.0.0.0/8 and ::1 (and its IPv4-mapped form ::ffff:127.x.y.z).
 * No name counts, not even `localhost` (which `parseListen` turns into 127.0.0.1):
 * what a name resolves to is up to the hosts file.
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
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
