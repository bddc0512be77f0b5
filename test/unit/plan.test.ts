// config.json -> the native plans, for the init and for exec, built without root or clone.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultSpec } from '../../src/oci/defaults';
import { buildExecPlan, buildPlan, CLONE_NEW } from '../../src/launch/plan';
import { cgroupsFor } from '../../src/cgroups/manager';
import { PLAN_FILE_NAMES } from '../../src/launch/statedir';

const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-plan-'));
fs.mkdirSync(path.join(rootfs, 'etc'));
fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n');
t.teardown(() => fs.rmSync(rootfs, { recursive: true, force: true }));

const cgroups = cgroupsFor({ kind: 'v2', unified: '/sys/fs/cgroup/skiff-plan-test' });

t.test("the init's plan: namespaces at clone, the state dir's names, HOME from the rootfs", async (t) => {
  const spec = defaultSpec();
  spec.process!.user = { uid: 1000, gid: 1000 };
  const p = buildPlan(spec, rootfs, rootfs, '/run/skiff/x', 'x', cgroups, {});
  t.equal(p.execMode, false);
  for (const ns of ['pid', 'network', 'ipc', 'uts', 'mount']) t.ok(p.cloneFlags & CLONE_NEW[ns], `${ns} made at clone`);
  t.same({ fifoName: p.fifoName, hookStateName: p.hookStateName, seccompStateName: p.seccompStateName }, PLAN_FILE_NAMES);
  t.ok(p.env.includes('HOME=/home/user'), "HOME from the container's /etc/passwd");
  t.equal(p.keyringName, '_ses.x');
  t.ok(p.mounts.some((m) => m.destination === '/proc'), 'the default mounts');
});

t.test("exec's plan joins the init's namespaces and makes none", async (t) => {
  const spec = defaultSpec();
  const p = buildExecPlan(spec, 4242, rootfs, { ...spec.process!, args: ['true'] }, 0);
  t.equal(p.execMode, true);
  t.equal(p.cloneFlags, 0);
  t.equal(p.newMountNs, false);
  t.same(p.mounts, []);
  t.ok(p.joins.every((j) => j.path.startsWith('/proc/4242/ns/')), 'every namespace joined through the init');
  t.ok(p.joins.some((j) => j.type === CLONE_NEW.pid));
});

t.test("no mount namespace: the runtime's, chroot, no propagation", async (t) => {
  const spec = defaultSpec();
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
  spec.linux!.maskedPaths = [];
  spec.linux!.readonlyPaths = [];
  spec.root!.readonly = false;
  const p = buildPlan(spec, rootfs, rootfs, '/run/skiff/x', 'x', cgroups, {});
  t.equal(p.hostMountNs, true);
  t.equal(p.newMountNs, false);
  t.notOk(p.cloneFlags & CLONE_NEW.mount);
});

t.test('a plan that cannot be made is refused before anything runs', async (t) => {
  const noMount = defaultSpec();
  noMount.linux!.namespaces = noMount.linux!.namespaces!.filter((n) => n.type !== 'mount');
  t.throws(() => buildPlan(noMount, rootfs, rootfs, '/run/skiff/x', 'x', cgroups, {}), /unable to restrict sys entries without a private MNT namespace/);
  noMount.linux!.maskedPaths = [];
  noMount.linux!.readonlyPaths = [];
  noMount.root!.readonly = true;
  t.throws(() => buildPlan(noMount, rootfs, rootfs, '/run/skiff/x', 'x', cgroups, {}), /root\.readonly: a read-only root needs a mount namespace of its own/);
  const hostname = defaultSpec();
  hostname.linux!.namespaces = hostname.linux!.namespaces!.filter((n) => n.type !== 'uts');
  t.throws(() => buildPlan(hostname, rootfs, rootfs, '/run/skiff/x', 'x', cgroups, {}), /setting the hostname needs a uts namespace/);
});
