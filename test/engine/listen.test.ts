import { describe, expect, it } from "vitest";
import { checkListen, isLoopback, parseListen } from "../../engine/listen.js";

describe("parseListen", () => {
  it.each([
    ["127.0.0.1:7071", "127.0.0.1", 7071],
    // The name is not trusted: the server binds the loopback address itself.
    ["localhost:0", "127.0.0.1", 0],
    ["LocalHost:7071", "127.0.0.1", 7071],
    ["[::1]:8080", "::1", 8080],
    ["0.0.0.0:7071", "0.0.0.0", 7071],
    ["7071", "127.0.0.1", 7071],
    [" agent.example:80 ", "agent.example", 80],
  ])("%s", (addr, host, port) => {
    expect(parseListen(addr)).toEqual({ ok: true, host, port });
  });

  it.each([
    ["127.0.0.1", "no port"],
    ["127.0.0.1:70000", 'port "70000" is not 0-65535'],
    ["::1:80", "write an IPv6 address in brackets, e.g. [::1]:7071"],
    ["[nope]:80", "nope is not an IPv6 address"],
    ["a b:80", '"a b" is not a host name or address'],
  ])("refuses %s", (addr, why) => {
    expect(parseListen(addr)).toEqual({ ok: false, message: `bad listen address ${JSON.stringify(addr)}: ${why} (expected HOST:PORT such as 127.0.0.1:7071)` });
  });
});

describe("loopback rule", () => {
  it.each(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])("%s is loopback", (h) => {
    expect(isLoopback(h)).toBe(true);
  });
  it.each(["0.0.0.0", "::", "10.0.0.1", "192.168.1.5", "128.0.0.1", "127.0.0.256", "agent1", "localhost", "::2", "fe80::1"])("%s is not loopback", (h) => {
    expect(isLoopback(h)).toBe(false);
  });
  it("refuses beyond loopback without a token, and allows it with one", () => {
    expect(checkListen("0.0.0.0", false)).toBe(
      "refusing to listen on 0.0.0.0 without a token: anyone who can reach it could move or start VMs; give a token (--token-file) or listen on 127.0.0.1",
    );
    expect(checkListen("0.0.0.0", true)).toBeNull();
    expect(checkListen("127.0.0.1", false)).toBeNull();
    expect(checkListen("::1", false)).toBeNull();
  });
});
