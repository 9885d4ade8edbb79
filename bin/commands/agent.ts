/**
 * `vmpolicy agent`: the web service on each hypervisor host (SPEC 6). It
 * builds the chosen driver (`sim`; `qemu` with real guests; `xl` or `virsh`) from flags
 * (and, for `sim`, an optional host file), reads the token, and serves the
 * agent API until SIGINT/SIGTERM.
 * Usage errors exit 2 with a message naming the flag; a `--run-dir` held by
 * another live agent exits 1.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { DEFAULT_AGENT_LISTEN, startAgent } from "../../engine/hosts/agent/server.js";
import type { Driver } from "../../engine/hosts/drivers/contract.js";
import { QemuDriver } from "../../engine/hosts/drivers/qemu/index.js";
import { RunDirInUseError } from "../../engine/hosts/drivers/qemu/run-dir-lock.js";
import { SimDriver } from "../../engine/hosts/drivers/sim/index.js";
import { VirshDriver } from "../../engine/hosts/drivers/virsh/index.js";
import { type VirshHostConfig, loadVirshConfig } from "../../engine/hosts/drivers/virsh/config.js";
import { XlDriver } from "../../engine/hosts/drivers/xl/index.js";
import { checkListen, parseListen } from "../../engine/listen.js";
import { type Parsed, type SimHostConfig, loadSimConfig, parseLabelsFlag, parseNumber, parseVmsFlag } from "../../engine/hosts/drivers/sim/config.js";
import { HOST_STATES } from "../../grammar/types.js";
import type { HostStateName } from "../../engine/types.js";

/** The drivers of SPEC 6, all built. */
const BUILT = ["sim", "qemu", "xl", "virsh"];

interface AgentFlags {
  driver: string;
  name?: string;
  listen: string;
  tokenFile?: string;
  config?: string;
  cpus?: string;
  mem?: string;
  vms?: string;
  labels?: string;
  state?: string;
  storage?: string;
  seed?: string;
  period?: string;
  migrationRate?: string;
  runDir?: string;
  qemuBinary?: string;
  migrationAddress?: string;
  migrateHosts?: string;
  stopGuestsOnExit?: boolean;
  connect?: string;
  advertiseUri?: string;
  unsafe?: boolean;
  quiet?: boolean;
}

function usage(message: string): never {
  process.stderr.write(`vmpolicy agent: ${message}\n`);
  process.exit(2);
}

function need<T>(r: Parsed<T>): T {
  if (!r.ok) usage(r.message);
  return r.value;
}

/** Merges the host file (if any) and the flags into the sim driver's settings; flags win. */
function simConfig(flags: AgentFlags): SimHostConfig {
  const cfg: SimHostConfig = flags.config ? need(loadSimConfig(flags.config)) : {};
  if (flags.config && cfg.storage) cfg.storage = resolve(flags.config, "..", cfg.storage);
  if (flags.name !== undefined) cfg.name = flags.name;
  if (!cfg.name) usage("--name is required with --driver sim (or set name: in --config)");
  if (flags.cpus !== undefined) cfg.cpus = need(parseNumber("--cpus", flags.cpus, { integer: true }));
  if (flags.mem !== undefined) cfg.mem = need(parseNumber("--mem", flags.mem));
  if (flags.vms !== undefined) cfg.vms = need(parseVmsFlag(flags.vms, cfg.name));
  if (flags.labels !== undefined) cfg.labels = need(parseLabelsFlag(flags.labels));
  if (flags.state !== undefined) {
    if (!(HOST_STATES as readonly string[]).includes(flags.state)) usage(`--state must be one of ${HOST_STATES.join(", ")} (got ${JSON.stringify(flags.state)})`);
    cfg.state = flags.state as HostStateName;
  }
  if (flags.storage !== undefined) cfg.storage = resolve(flags.storage);
  if (flags.seed !== undefined) cfg.seed = need(parseNumber("--seed", flags.seed, { integer: true, zero: true }));
  if (flags.period !== undefined) cfg.period = need(parseNumber("--period", flags.period, { zero: true }));
  if (flags.migrationRate !== undefined) cfg.migration_rate = need(parseNumber("--migration-rate", flags.migrationRate));
  return cfg;
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    usage(`--token-file ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const token = text.trim();
  if (token === "") usage(`--token-file ${file}: the file is empty`);
  if (/\s/.test(token)) usage(`--token-file ${file}: the token must be one word without spaces`);
  return token;
}

function buildSim(flags: AgentFlags): SimDriver {
  const cfg = simConfig(flags);
  try {
    return new SimDriver({
      name: cfg.name!,
      cpus: cfg.cpus ?? 4,
      mem: cfg.mem ?? 16384,
      labels: cfg.labels,
      state: cfg.state,
      vms: cfg.vms,
      seed: cfg.seed,
      period: cfg.period,
      busyDemand: cfg.busy_demand,
      dom0: cfg.dom0,
      idleDemand: cfg.idle_demand,
      migrationRate: cfg.migration_rate,
      storage: cfg.storage,
    });
  } catch (e) {
    usage((e as Error).message);
  }
}

async function buildQemu(flags: AgentFlags): Promise<QemuDriver> {
  for (const [flag, set] of [["--config", flags.config], ["--state", flags.state], ["--seed", flags.seed], ["--period", flags.period], ["--migration-rate", flags.migrationRate]] as const) {
    if (set !== undefined) usage(`${flag} applies to --driver sim only`);
  }
  const binary = flags.qemuBinary ?? "qemu-system-x86_64";
  if (spawnSync(binary, ["--version"]).status !== 0) usage(`cannot run ${binary}: install QEMU (Debian: qemu-system-x86) or give --qemu-binary`);
  const name = flags.name ?? hostname();
  const runDir = resolve(flags.runDir ?? join(tmpdir(), `vmpolicy-qemu-${name}`));
  try {
    return await QemuDriver.create({
      name,
      cpus: flags.cpus === undefined ? undefined : need(parseNumber("--cpus", flags.cpus, { integer: true })),
      mem: flags.mem === undefined ? undefined : need(parseNumber("--mem", flags.mem)),
      labels: flags.labels === undefined ? undefined : need(parseLabelsFlag(flags.labels)),
      vms: flags.vms === undefined ? undefined : need(parseVmsFlag(flags.vms, name, false)),
      runDir,
      storage: flags.storage === undefined ? undefined : resolve(flags.storage),
      binary,
      migrationAddress: flags.migrationAddress,
      stopGuestsOnClose: flags.stopGuestsOnExit === true,
    });
  } catch (e) {
    // Not a usage error: another agent runs on that run dir now (exit 1).
    if (e instanceof RunDirInUseError) {
      process.stderr.write(`vmpolicy agent: ${e.message}\n`);
      process.exit(1);
    }
    usage((e as Error).message);
  }
}

function migrateHosts(spec: string): Record<string, string> {
  const r = parseLabelsFlag(spec);
  if (!r.ok) usage(r.message.replace("--labels", "--migrate-hosts").replace("KEY=VALUE", "HOST=ADDRESS"));
  return r.value;
}

/** The xl or virsh driver from flags (virsh: and its --config file); the hypervisor's tools must work (checked by one facts call before listening). */
async function buildToolstack(flags: AgentFlags): Promise<XlDriver | VirshDriver> {
  const virsh = flags.driver === "virsh";
  for (const [flag, set] of [["--config", virsh ? undefined : flags.config], ["--state", flags.state], ["--seed", flags.seed], ["--period", flags.period], ["--migration-rate", flags.migrationRate], ["--vms", flags.vms]] as const) {
    if (set !== undefined) usage(`${flag} applies to --driver sim${flag === "--vms" ? " and qemu" : flag === "--config" ? " and virsh" : ""} only`);
  }
  if (flags.migrationAddress !== undefined && !virsh) usage("--migration-address applies to --driver qemu and virsh only");
  const cfg: VirshHostConfig = flags.config ? need(loadVirshConfig(flags.config)) : {};
  if (flags.config && cfg.storage) cfg.storage = resolve(flags.config, "..", cfg.storage);
  const options = {
    name: flags.name ?? cfg.name ?? hostname(),
    cpus: flags.cpus === undefined ? cfg.cpus : need(parseNumber("--cpus", flags.cpus, { integer: true })),
    mem: flags.mem === undefined ? cfg.mem : need(parseNumber("--mem", flags.mem)),
    labels: flags.labels === undefined ? cfg.labels : need(parseLabelsFlag(flags.labels)),
    storage: flags.storage === undefined ? cfg.storage : resolve(flags.storage),
    migrateHosts: flags.migrateHosts === undefined ? undefined : migrateHosts(flags.migrateHosts),
  };
  let driver: XlDriver | VirshDriver;
  try {
    driver = !virsh
      ? new XlDriver(options)
      : new VirshDriver({
          ...options,
          connect: flags.connect ?? cfg.connect,
          advertiseUri: flags.advertiseUri ?? cfg.advertise_uri,
          migrationAddress: flags.migrationAddress ?? cfg.migration_address,
          unsafe: flags.unsafe ?? cfg.unsafe,
        });
    await driver.facts();
  } catch (e) {
    usage(`--driver ${flags.driver}: ${(e as Error).message}`);
  }
  return driver;
}

async function runAgent(flags: AgentFlags): Promise<void> {
  if (!BUILT.includes(flags.driver)) usage(`unknown driver ${JSON.stringify(flags.driver)} (available: ${BUILT.join(", ")})`);
  if (flags.stopGuestsOnExit && flags.driver !== "qemu") usage("--stop-guests-on-exit applies to --driver qemu only");
  for (const [flag, set] of [["--connect", flags.connect], ["--advertise-uri", flags.advertiseUri], ["--unsafe", flags.unsafe]] as const) {
    if (set !== undefined && flags.driver !== "virsh") usage(`${flag} applies to --driver virsh only`);
  }
  const token = flags.tokenFile ? readToken(flags.tokenFile) : undefined;
  // Check the address before a driver starts any guest.
  const listen = parseListen(flags.listen);
  if (!listen.ok) usage(listen.message);
  const refusal = checkListen(listen.host, token !== undefined);
  if (refusal) usage(refusal);
  const driver: Driver & { vmNames(): string[] } =
    flags.driver === "qemu" ? await buildQemu(flags) : flags.driver === "xl" || flags.driver === "virsh" ? await buildToolstack(flags) : buildSim(flags);
  const logger = pino({ level: flags.quiet ? "warn" : "info", base: { host: driver.name } });
  let agent;
  try {
    agent = await startAgent({ driver, listen: flags.listen, token, logger });
  } catch (e) {
    await driver.close();
    usage((e as Error).message);
  }
  logger.info({ url: agent.url, driver: driver.kind, vms: driver.vmNames().length }, `agent ${agent.name} (${driver.kind}) listening on ${agent.url}`);
  const stop = (signal: string) => {
    logger.info(`${signal}: stopping${flags.driver !== "qemu" ? "" : flags.stopGuestsOnExit ? " and quitting the guests (--stop-guests-on-exit)" : "; the guests run on"}`);
    void agent.close().then(
      () => process.exit(0),
      (e: Error) => {
        logger.error(`cannot stop cleanly: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

/** Registers `vmpolicy agent`. */
export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("the host agent: reports this host's facts and carries out migrations and restarts (SPEC 6)")
    .requiredOption("--driver <name>", `hypervisor driver (available: ${BUILT.join(", ")})`)
    .option("--name <host>", "the host's name in facts (sim: required; qemu: default this machine's host name)")
    .option("--listen <addr>", "HOST:PORT to serve on; port 0 picks a free one", DEFAULT_AGENT_LISTEN)
    .option("--token-file <file>", "file holding the bearer token; required to listen beyond loopback")
    .option("--config <file>", "sim: a YAML/JSON host file (name, cpus, mem, labels, state, vms, seed, period, migration_rate, dom0, storage); virsh: (name, connect, advertise_uri, migration_address, unsafe, cpus, mem, labels, storage)")
    .option("--cpus <n>", "logical CPUs (sim default 4; qemu default this machine's)")
    .option("--mem <MiB>", "memory for guests in MiB (sim default 16384; qemu default this machine's less 1 GiB)")
    .option("--vms <spec>", "guests to start: NAME:MEM[:VCPUS][:busy|idle],… or COUNTxMEM[:…] (sim: busy by default; qemu: idle)")
    .option("--labels <k=v,…>", "host labels")
    .option("--state <state>", `sim: reported state (${HOST_STATES.join(", ")}; default up)`)
    .option("--storage <dir>", "shared storage folder for restarts (sim/qemu: JSON definitions; xl: <vm>.cfg, virsh: <vm>.xml)")
    .option("--seed <n>", "sim: workload seed (default 1)")
    .option("--period <seconds>", "sim: seconds between workload switches (default 60; 0 = fixed)")
    .option("--migration-rate <MiB/s>", "sim: live-migration speed (default 512)")
    .option("--run-dir <dir>", "qemu: folder for each guest's pid file, QMP socket and definition; keep it across restarts, the next run adopts the guests in it (default $TMPDIR/vmpolicy-qemu-NAME)")
    .option("--stop-guests-on-exit", "qemu: quit the guests on SIGINT/SIGTERM (default: they run on and the next run adopts them)")
    .option("--qemu-binary <path>", "qemu: the emulator (default qemu-system-x86_64)")
    .option("--migration-address <host>", "qemu: address incoming guests listen on (default the --listen host); virsh: data address incoming guests arrive on (--migrateuri tcp://ADDR; default libvirt's choice)")
    .option("--migrate-hosts <name=addr,…>", "xl/virsh: address of each destination host for xl migrate / virsh migrate (default the host of its agent URL)")
    .option("--connect <uri>", "virsh: this host's libvirt URI, passed as -c to every virsh call (default virsh's own default)")
    .option("--advertise-uri <uri>", "virsh: the URI other hosts' libvirt reaches this one by, told to migration sources (default --connect when it names a transport, else qemu+ssh://HOST/system)")
    .option("--unsafe", "virsh: pass --unsafe to virsh migrate and skip the shared-storage check (storage shared in a way the agent cannot see)")
    .option("--quiet", "log warnings and errors only")
    .addHelpText(
      "after",
      `\nExamples:\n  vmpolicy agent --driver sim --name h1 --cpus 4 --mem 16384 --vms web1:1024,web2:1024,db1:4096:2:idle --storage /tmp/vmpolicy-storage\n  vmpolicy agent --driver qemu --name q1 --vms g1:256:1:busy,g2:256 --storage /srv/vmpolicy-storage --listen 127.0.0.1:7072\n  vmpolicy agent --driver virsh --name kvm1 --connect qemu:///system --advertise-uri qemu+tcp://kvm1.example.net/system --listen 10.0.0.1:7071 --token-file /etc/vmpolicy/token\n`,
    )
    .action(async (flags: AgentFlags) => runAgent(flags));
}
