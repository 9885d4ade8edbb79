/**
 * Whether a guest's disks let it migrate live without copying storage. The
 * rule follows libvirt's own (qemuMigrationSrcIsSafe): a disk is fine when it
 * is read-only, shareable, empty, a network disk, or a file or device on a
 * cluster or network file system; anything else would need `--copy-storage-*`,
 * which vmpolicy never asks for.
 */
import { statfsSync } from "node:fs";
import type { DomainDisk } from "./virsh/parse.js";

/** statfs magic numbers of file systems shared between hosts (linux/magic.h and the file systems' own headers). */
const SHARED_FS: ReadonlyMap<number, string> = new Map([
  [0x6969, "nfs"],
  [0xff534d42, "cifs"],
  [0xfe534d42, "smb2"],
  [0x01161970, "gfs2"],
  [0x7461636f, "ocfs2"],
  [0x00c36400, "ceph"],
  [0x0bd00bd0, "lustre"],
  [0x47504653, "gpfs"],
  [0x19830326, "beegfs"],
  [0x65735546, "fuse (glusterfs and others)"],
]);

/** Names of common local file systems, for the message. */
const LOCAL_FS: ReadonlyMap<number, string> = new Map([
  [0xef53, "ext2/3/4"],
  [0x58465342, "xfs"],
  [0x9123683e, "btrfs"],
  [0x01021994, "tmpfs"],
  [0x794c7630, "overlayfs"],
  [0x2fc12fc1, "zfs"],
]);

/** Undefined when every disk can stay where it is; else why not, naming the disk. */
export function sharedStorageRefusal(disks: readonly DomainDisk[], statfs: (path: string) => number = (p) => Number(statfsSync(p).type)): string | undefined {
  for (const d of disks) {
    if (d.readonly || d.shareable || d.device === "cdrom" || d.device === "floppy" || d.source === undefined) continue;
    // A network disk is shared by nature; a block device may be a SAN LUN the agent cannot recognise: libvirt's own check decides (its message is the failure).
    if (d.type === "network" || d.type === "block") continue;
    let type: number;
    try {
      type = statfs(d.source);
    } catch (e) {
      return `its disk ${d.target} (${d.source}) is writable and the agent cannot tell whether it is on shared storage (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    if (SHARED_FS.has(type)) continue;
    const fs = LOCAL_FS.get(type) ?? `file system type 0x${type.toString(16)}`;
    return `its disk ${d.target} (${d.source}) is writable and on a local file system (${fs})`;
  }
  return undefined;
}
