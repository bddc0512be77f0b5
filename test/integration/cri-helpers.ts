// The CRI suite shared by engines-cri.test.ts (cgroupfs) and engines-cri-systemd.test.ts
// (SystemdCgroup = true, on a host whose PID 1 is systemd): containerd's CRI plugin with a
// runtime handler whose BinaryName is Skiff, driven over the CRI gRPC API as the kubelet drives
// it (RunPodSandbox, CreateContainer, StartContainer, ExecSync; with systemd also a memory
// limit and StopContainer/RemoveContainer). containerd runs privately in its own network
// namespace (which is the pod's "node" network here), with restrict_oom_score_adj since the
// sandbox asks for -998 and this host may not lower it. The same steps run with a runc handler.
import t, { Test } from 'tap';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ctrClient, ociImage, REPO, SKIFF, testEnv, tmpDir } from '../lib/harness';

export interface CriOptions {
  // SystemdCgroup = true for both handlers; pods go in system.slice
  systemd: boolean;
  // why the suite cannot run here, if it cannot
  skip?: string | false;
}

const MB = 1024 * 1024;

export function criSuite(opts: CriOptions): void {
  const work = tmpDir('cri');
  const sock = path.join(work, 'containerd.sock');
  let daemon: ChildProcess | undefined;
  let runtime: any;

  function call<T>(method: string, req: object): Promise<T> {
    return new Promise((resolve, reject) => runtime[method](req, { deadline: Date.now() + 60_000 }, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))));
  }

  const ctr = ctrClient(sock, 'k8s.io');

  function image(name: string, cmd: string[]): void {
    // No PATH in an image config means none in the container (runc's rule): give one.
    const { tar } = ociImage(work, name, ['--config.env', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...cmd.flatMap((c) => ['--config.cmd', c])]);
    const r = ctr(['images', 'import', '--base-name', `docker.io/library/${name}`, tar]);
    if (r.code !== 0) throw new Error(`ctr import ${name}: ${r.stderr}`);
  }

  t.before(async () => {
    if (opts.skip) return;
    const plugin = '[plugins."io.containerd.grpc.v1.cri"';
    const systemdCgroup = opts.systemd ? ['  SystemdCgroup = true'] : [];
    fs.writeFileSync(path.join(work, 'config.toml'), [
      'version = 2', `root = "${work}/root"`, `state = "${work}/state"`, '[grpc]', `  address = "${sock}"`,
      `${plugin}]`, '  sandbox_image = "docker.io/library/pause:latest"', '  restrict_oom_score_adj = true',
      `${plugin}.containerd]`, '  snapshotter = "overlayfs"', '  default_runtime_name = "runc"',
      `${plugin}.containerd.runtimes.skiff]`, '  runtime_type = "io.containerd.runc.v2"',
      `${plugin}.containerd.runtimes.skiff.options]`, `  BinaryName = "${SKIFF}"`, ...systemdCgroup,
      `${plugin}.containerd.runtimes.runc]`, '  runtime_type = "io.containerd.runc.v2"',
      `${plugin}.containerd.runtimes.runc.options]`, '  BinaryName = "/usr/sbin/runc"', ...systemdCgroup, '',
    ].join('\n'));
    daemon = spawn('unshare', ['--net', 'containerd', '--config', path.join(work, 'config.toml')], {
      stdio: ['ignore', fs.openSync(path.join(work, 'containerd.log'), 'w'), fs.openSync(path.join(work, 'containerd.err'), 'w')], env: testEnv(),
    });
    for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    image('pause', ['sleep', '2147483647']);
    image('busybox', ['sh']);
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const def = loader.loadSync(path.join(REPO, 'test', 'fixtures', 'cri', 'runtime-subset.proto'), { keepCase: false, longs: Number, enums: String, defaults: true });
    const proto = grpc.loadPackageDefinition(def).runtime.v1;
    runtime = new proto.RuntimeService(`unix://${sock}`, grpc.credentials.createInsecure());
  });

  t.teardown(async () => {
    if (opts.skip) return fs.rmSync(work, { recursive: true, force: true });
    runtime?.close();
    daemon?.kill('SIGTERM');
    await new Promise((r) => daemon?.on('exit', r));
    spawnSync('pkill', ['-f', `containerd-shim-runc-v2 -namespace k8s.io -address ${sock}`]);
    spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  const systemctl = (...args: string[]) => spawnSync('systemctl', args, { encoding: 'utf8' }).stdout ?? '';

  // The container is the scope cri-containerd-<id>.scope in system.slice, its limit a unit
  // property and a file; StopContainer and RemoveContainer leave neither unit nor cgroup.
  async function systemdChecks(t: Test, containerId: string): Promise<void> {
    const unit = `cri-containerd-${containerId}.scope`;
    const dir = `/sys/fs/cgroup/system.slice/${unit}`;
    t.equal(systemctl('show', unit, '-p', 'MemoryMax').trim(), `MemoryMax=${64 * MB}`, `${unit}: MemoryMax`);
    t.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(64 * MB), 'memory.max');
    await call('StopContainer', { containerId, timeout: 10 });
    await call('RemoveContainer', { containerId });
    t.notOk(fs.existsSync(dir), 'no cgroup left after RemoveContainer');
    t.notMatch(systemctl('list-units', '--all', '--no-legend', unit), containerId, 'no unit left');
  }

  for (const handler of ['skiff', 'runc']) {
    const what = opts.systemd ? ' with SystemdCgroup, a memory limit, StopContainer, RemoveContainer' : '';
    t.test(`${handler}: RunPodSandbox, CreateContainer, StartContainer, ExecSync${what}`, { skip: opts.skip ?? false }, async (t) => {
      const version = await call<{ runtime_name?: string; runtimeName?: string }>('Version', { version: 'v1' });
      t.equal(version.runtimeName, 'containerd');
      const sandboxConfig = {
        metadata: { name: `pod-${handler}`, uid: `uid-${handler}`, namespace: 'default', attempt: 0 },
        // NODE network means the node's UTS namespace too: no hostname of the pod's own.
        hostname: '', logDirectory: path.join(work, `logs-${handler}`),
        // systemd: a slice (containerd makes cgroupsPath "slice:cri-containerd:<id>").
        linux: { cgroupParent: opts.systemd ? 'system.slice' : `/skiff-cri-${handler}`, securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
      };
      fs.mkdirSync(sandboxConfig.logDirectory, { recursive: true });
      const { podSandboxId } = await call<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig, runtimeHandler: handler });
      t.ok(podSandboxId, 'sandbox running');
      const { containerId } = await call<{ containerId: string }>('CreateContainer', {
        podSandboxId, sandboxConfig,
        config: {
          metadata: { name: 'app', attempt: 0 }, image: { image: 'docker.io/library/busybox:latest' }, command: ['sleep', '1000'], envs: [{ key: 'K', value: 'v' }], logPath: 'app.log',
          ...(opts.systemd ? { linux: { resources: { memoryLimitInBytes: 64 * MB, cpuShares: 512 } } } : {}),
        },
      });
      t.ok(containerId, 'container created');
      await call('StartContainer', { containerId });
      const out = await call<{ stdout: Buffer; stderr: Buffer; exitCode: number }>('ExecSync', { containerId, cmd: ['sh', '-c', 'echo exec-sync $K; hostname; exit 3'], timeout: 30 });
      t.equal(out.exitCode, 3);
      t.equal(out.stdout.toString(), `exec-sync v\n${require('os').hostname()}\n`);
      if (opts.systemd) await systemdChecks(t, containerId);
      await call('StopPodSandbox', { podSandboxId });
      await call('RemovePodSandbox', { podSandboxId });
    });
  }
}
