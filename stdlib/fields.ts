/**
 * One line of documentation per field of a host and of a VM (SPEC 1), for
 * the language server's hover and completion. The fields' types live with
 * the checker (grammar/check-types.ts); test/stdlib/fields.test.ts checks that
 * every field the checker knows is documented here, so the two cannot drift.
 */

export const HOST_FIELD_DOCS: Readonly<Record<string, string>> = {
  name: "The host's name, unique in the cluster.",
  state: "`up`, `degraded` (reports an impending fault), `maintenance` (to be emptied) or `down` (lost).",
  cpus: "Logical CPUs; the host's capacity is `cpus × 100` CPU-percent.",
  mem: "MiB available to guests.",
  labels: "The host's labels: `host.labels.KEY` is the label's string, or none.",
  vms: "The list of its VMs (projected: VMs planned onto it this round count).",
  load: "`sum(vm.cpu) / cpus`: percent of the host's capacity (may exceed 100 when overcommitted); projected during planning.",
  load_avg: "The smoothed load: an exponential moving average across rounds (equals `load` where none is kept).",
  used: "`(sum(vm.cpu) + other_cpu) / cpus`: `load` plus what runs on the host outside its VMs, where its agent measures it.",
  other_cpu: "CPU used on the host outside its VMs (Dom0, the hypervisor, other processes), percent of one CPU, as its agent measures it; 0 where not measured.",
  mem_used: "`sum(vm.mem)` in MiB.",
  mem_free: "`mem - mem_used` in MiB (the smaller of that and a measured `mem_avail`).",
  mem_avail: "MiB a new guest can have, as the host's agent measures it (MemAvailable less a reserve); `mem - mem_used` where not measured.",
  vm_count: "The number of its VMs.",
  busy: "True while the host is the source or destination of a migration or restart planned this round or in flight.",
  group: "The group this policy put the host in (SPEC 2.4), or none.",
};

export const VM_FIELD_DOCS: Readonly<Record<string, string>> = {
  name: "The VM's name, unique in the cluster.",
  cpu: "CPU use in percent of one logical CPU, as `xentop` and `top` report it (a 2-vCPU guest can show 180).",
  cpu_avg: "The smoothed CPU use: an exponential moving average across rounds (equals `cpu` where none is kept).",
  cpu_changes: "How often its CPU changes level, per hour, as the engine observed over about the last hour: a change is a move of more than 50 points (half a CPU) seen in two samples in a row, so a dip shorter than one interval is none (0 where none are counted).",
  mem: "MiB.",
  labels: "The VM's labels: `vm.labels.KEY` is the label's string, or none.",
  pinned: "True when no rule may move it.",
  migrating: "True while it is being migrated.",
  host: "The host it runs on (projected during planning).",
  load: "`cpu / host.cpus`: its share of its current host, percent.",
};
