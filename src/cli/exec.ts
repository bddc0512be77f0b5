// exec: runc's flags over a process from the container's config, or a whole process.json
// (-p, what the shims send).
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { execProcess } from '../container/exec';
import { loadContainer } from '../container/ops';
import { checkProcess, envProblem } from '../oci/validate';
import type { Process } from '../oci/spec';
import { parseJson, toJson } from '../oci/json';
import { PROCESS_SHAPE, foldKeys } from '../oci/keys';
import { supervise } from '../container/supervise';
import type { Invocation } from './main';
import { preserveFds } from './values';
import { parseSubCgroupArgs } from '../cgroups/sub';

// What runc's exec takes from the container's own process when a process.json leaves it out
// (libcontainer's newInitConfig): without this a process.json with no capabilities would
// run with every capability the runtime holds.
function inheritFromContainer(p: Record<string, unknown>, base: Process): void {
  if (p.capabilities === undefined || p.capabilities === null) p.capabilities = base.capabilities;
  if (p.noNewPrivileges === undefined || p.noNewPrivileges === null) p.noNewPrivileges = base.noNewPrivileges;
  if (!p.apparmorProfile) p.apparmorProfile = base.apparmorProfile;
  if (!p.selinuxLabel) p.selinuxLabel = base.selinuxLabel;
  if (!Array.isArray(p.rlimits) || p.rlimits.length === 0) p.rlimits = base.rlimits;
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
}

function processFromFlags(inv: Invocation, base: Process): Process {
  const f = inv.flags;
  if (f.process) {
    let raw: Record<string, unknown>;
    try {
      raw = foldKeys(parseJson(fs.readFileSync(String(f.process), 'utf8')), PROCESS_SHAPE) as Record<string, unknown>;
    } catch (e) {
      throw new SkiffError('config', `exec: process file ${f.process}: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SkiffError('config', `exec: process file ${f.process}: must be a JSON object`);
    // runc decodes into Go's zero values: no user (or no uid, no gid) is root.
    if (raw.user === undefined) raw.user = {};
    const user = raw.user as Record<string, unknown>;
    if (typeof user === 'object' && user !== null) {
      user.uid ??= 0;
      user.gid ??= 0;
    }
    inheritFromContainer(raw, base);
    checkProcess(raw);
    return raw as unknown as Process;
  }
  const args = inv.args.slice(1);
  if (args.length === 0) throw new SkiffError('usage', 'exec: args must not be empty');
  const p = parseJson(toJson(base)) as Process;
  p.args = args;
  p.terminal = f.tty === true;
  delete p.consoleSize;
  if (f.cwd) p.cwd = String(f.cwd);
  for (const kv of (f.env as string[] | undefined) ?? []) {
    const why = envProblem(kv);
    if (why) throw new SkiffError('usage', `unable to start container process: ${why}`);
    const key = kv.split('=')[0];
    p.env = [...(p.env ?? []).filter((e) => e.split('=')[0] !== key), kv];
  }
  if (f.user) {
    const [uid, gid] = String(f.user).split(':');
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) throw new SkiffError('usage', `exec: invalid --user ${JSON.stringify(f.user)}: want uid[:gid]`);
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? p.user.gid : Number(gid) };
  }
  for (const g of (f.additionalGids as string[] | undefined) ?? []) {
    if (!/^\d+$/.test(g)) throw new SkiffError('usage', `exec: invalid --additional-gids ${JSON.stringify(g)}`);
    p.user.additionalGids = [...(p.user.additionalGids ?? []), Number(g)];
  }
  for (const cap of (f.cap as string[] | undefined) ?? []) {
    const caps = p.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), cap];
    p.capabilities = caps;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = String(f.apparmor);
  if (f.processLabel) p.selinuxLabel = String(f.processLabel);
  checkProcess(p as unknown as Record<string, unknown>);
  return p;
}

export default async function exec(inv: Invocation): Promise<void> {
  const id = inv.args[0];
  const f = inv.flags;
  const subCgroups = parseSubCgroupArgs(f.cgroup as string[] | undefined);
  const preserve = preserveFds(f.preserveFds);
  const base = loadContainer(inv.store, id).state.config.process!;
  const proc = processFromFlags(inv, base);
  const { pid, ptyMaster } = execProcess(inv.store, {
    id, process: proc, detach: f.detach === true, pidFile: f.pidFile as string | undefined,
    consoleSocket: f.consoleSocket as string | undefined, pidfdSocket: f.pidfdSocket as string | undefined, ignorePaused: f.ignorePaused === true, preserveFds: preserve, subCgroups,
  });
  if (f.detach) return;
  process.exitCode = await supervise(pid, ptyMaster);
}
