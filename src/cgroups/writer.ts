// Writing linux.resources into cgroup files: what both cgroupfs drivers share. Each driver
// says where a controller's files are and how a missing file reads; the messages name the
// field, the file and the kernel's answer either way.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, errnoText } from '../errors';
import { logWarn } from '../log';
import type { Resources } from '../oci/spec';

export interface ApplyOptions {
  file?: string;          // what messages start with: "config.json" (create) or "update"
  base?: string;          // the field prefix: "linux.resources" or "" for update
  skipDevices?: boolean;  // update leaves the device rules alone, as runc does
}

export abstract class Writer {
  readonly opts: Required<ApplyOptions>;

  constructor(opts: ApplyOptions) {
    this.opts = { file: opts.file ?? 'config.json', base: opts.base ?? 'linux.resources', skipDevices: !!opts.skipDevices };
  }

  // The directory a field's controller lives in, or a clear error when there is none.
  abstract dir(ctrl: string, field: string): string;

  // Why `file` of `ctrl` is missing, for the message.
  protected abstract missing(ctrl: string, file: string): string;

  name(field: string): string {
    return this.opts.base ? `${this.opts.base}.${field}` : field;
  }

  fail(field: string, why: string): never {
    throw new SkiffError('setup', `${this.opts.file}: ${this.name(field)}: ${why}`);
  }

  exists(ctrl: string, file: string, field: string): boolean {
    return fs.existsSync(path.join(this.dir(ctrl, field), file));
  }

  read(ctrl: string, file: string, field: string): string {
    return fs.readFileSync(path.join(this.dir(ctrl, field), file), 'utf8').trim();
  }

  // Writes one value; the error names the field, the file and the kernel's answer.
  write(ctrl: string, file: string, value: string, field: string, onError?: (e: NodeJS.ErrnoException) => boolean): void {
    const p = path.join(this.dir(ctrl, field), file);
    try {
      // O_WRONLY without O_CREAT: a missing file is a missing controller, not a file to make.
      const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
      try {
        fs.writeSync(fd, value);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (onError?.(err)) return;
      if (err.code === 'ENOENT') this.fail(field, this.missing(ctrl, file));
      this.fail(field, `writing ${JSON.stringify(value)} to ${p}: ${errnoText(err)}`);
    }
  }
}

export type Section = Record<string, unknown>;
export const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
export const isSet = (v: unknown): boolean => v !== undefined && v !== null;

// The sections of linux.resources as the translations read them.
export interface Sections {
  res: Section;
  mem: Section;
  cpu: Section;
}

let warnedKernel = false;

export function sections(r: Resources | undefined, w: Writer): Sections {
  const res = (r ?? {}) as Section;
  const mem = (res.memory ?? {}) as Section;
  const cpu = (res.cpu ?? {}) as Section;
  if ((n(mem.kernel) || n(mem.kernelTCP)) && !warnedKernel && !w.opts.skipDevices) {
    warnedKernel = true;
    logWarn('Kernel memory settings are ignored and will be removed');
  }
  return { res, mem, cpu };
}

// ---------------------------------------------------------------- the same on v1 and v2

export function cpuset(w: Writer, c: Section): void {
  const ctrl = 'cpuset';
  if (c.cpus) w.write(ctrl, 'cpuset.cpus', String(c.cpus), 'cpu.cpus');
  if (c.mems) w.write(ctrl, 'cpuset.mems', String(c.mems), 'cpu.mems');
}

export function pids(w: Writer, p: { limit?: number }): void {
  const limit = n(p.limit);
  if (limit) w.write('pids', 'pids.max', limit > 0 ? String(limit) : 'max', 'pids.limit');
}

export function rdma(w: Writer, r: Record<string, { hcaHandles?: number; hcaObjects?: number }>): void {
  for (const [dev, lim] of Object.entries(r)) {
    const parts = [dev];
    if (isSet(lim.hcaHandles)) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (isSet(lim.hcaObjects)) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length === 1) continue;
    w.write('rdma', 'rdma.max', parts.join(' '), `rdma.${dev}`);
  }
}

export interface HugepageLimit { pageSize: string; limit: number }

// The files differ by version (SUFFIX is v1's "limit_in_bytes", v2's "max"); the reserved
// limit is written where the kernel has it. `off` says the controller is not there at all.
export function hugetlb(w: Writer, limits: HugepageLimit[], suffix: string, off: (field: string) => boolean): void {
  let skipRsvd = false;
  limits.forEach((h, i) => {
    const field = `hugepageLimits[${i}]`;
    const prefix = `hugetlb.${h.pageSize}`;
    const [limitFile, rsvdFile] = [`${prefix}.${suffix}`, `${prefix}.rsvd.${suffix}`];
    if (!w.exists('hugetlb', limitFile, field)) {
      if (off(field)) w.fail(field, 'the hugetlb controller is not enabled for this cgroup');
      w.fail(`${field}.pageSize`, `this host has no ${h.pageSize} huge pages`);
    }
    w.write('hugetlb', limitFile, String(h.limit), `${field}.limit`);
    if (skipRsvd) return;
    w.write('hugetlb', rsvdFile, String(h.limit), `${field}.limit`, (e) => (skipRsvd = e.code === 'ENOENT'));
  });
}

// The sections runc writes after the version's own (hugetlb, net_cls/net_prio, rdma, unified),
// each only when the config has it.
export interface Tail {
  hugetlb(limits: HugepageLimit[]): void;
  network(net: Section): void;
  unified(u: Record<string, string>): void;
}

export function writeTail(w: Writer, res: Section, t: Tail): void {
  if ((res.hugepageLimits as unknown[] | undefined)?.length) t.hugetlb(res.hugepageLimits as HugepageLimit[]);
  if (res.network) t.network(res.network as Section);
  if (res.rdma && Object.keys(res.rdma).length) rdma(w, res.rdma as Record<string, { hcaHandles?: number; hcaObjects?: number }>);
  if (res.unified && Object.keys(res.unified).length) t.unified(res.unified as Record<string, string>);
}
