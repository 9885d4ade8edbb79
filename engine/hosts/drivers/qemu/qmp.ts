/**
 * A minimal QMP client (QEMU Machine Protocol) over a unix socket: connect,
 * negotiate capabilities, run commands one at a time and get their `return`
 * or their error as a rejected promise with QEMU's own description. Events
 * are ignored. The qemu driver uses it to migrate, query and quit guests.
 */
import { type Socket, connect } from "node:net";

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One QMP connection. */
export class QmpClient {
  private buffer = "";
  private readonly waiters: Waiter[] = [];
  private greeted!: Promise<void>;
  private closedError: Error | null = null;
  private markClosed!: () => void;
  /** Resolves when the connection closes (QEMU ended, or `close`). */
  readonly closed = new Promise<void>((r) => (this.markClosed = r));

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {}

  /** Connects (retrying while QEMU creates the socket, up to `timeoutMs`) and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let client: QmpClient | undefined;
      try {
        const socket = await new Promise<Socket>((res, rej) => {
          const s = connect(path);
          s.once("connect", () => res(s));
          s.once("error", rej);
        });
        client = new QmpClient(socket, path);
        client.listen();
        // QEMU serves one monitor connection at a time: while another holds it, a connection is accepted and never greeted.
        let timer: NodeJS.Timeout | undefined;
        const silent = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("no greeting (is another client connected?)")), Math.max(0, deadline - Date.now()))));
        try {
          await Promise.race([client.greeted, silent]);
        } finally {
          clearTimeout(timer);
        }
        await client.execute("qmp_capabilities");
        return client;
      } catch (e) {
        // A connection that failed after connecting is not left open behind the retry.
        client?.close();
        if (Date.now() > deadline) throw new Error(`QMP ${path}: cannot connect: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private listen(): void {
    let greet!: Waiter;
    this.greeted = new Promise<void>((resolve, reject) => (greet = { resolve: () => resolve(), reject }));
    let greetedYet = false;
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        let msg: { QMP?: unknown; return?: unknown; error?: { class?: string; desc?: string }; event?: string };
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (msg.QMP !== undefined && !greetedYet) {
          greetedYet = true;
          greet.resolve(undefined);
        } else if (msg.event !== undefined) {
          // Events (STOP, RESUME, MIGRATION …) are not needed: state is polled.
        } else if (msg.error !== undefined) {
          this.waiters.shift()?.reject(new Error(`QMP: ${msg.error.desc ?? msg.error.class ?? "error"}`));
        } else if ("return" in msg) {
          this.waiters.shift()?.resolve(msg.return);
        }
      }
    });
    const fail = (why: string) => {
      this.closedError ??= new Error(`QMP ${this.path}: ${why}`);
      if (!greetedYet) greet.reject(this.closedError);
      for (const w of this.waiters.splice(0)) w.reject(this.closedError);
    };
    this.socket.on("error", (e) => fail(e.message));
    this.socket.on("close", () => {
      fail("connection closed");
      this.markClosed();
    });
  }

  /** Runs one command; QMP answers in order, so waiters are a queue. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<T>((resolve, reject) => {
      this.waiters.push({ resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
