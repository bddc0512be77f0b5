// OCI hooks that run in the runtime namespace (prestart, createRuntime, poststart, poststop):
// the state JSON on stdin, the hook's args and env, its timeout. createContainer and
// startContainer run inside the container's namespaces, from the init (native/launch.cc);
// they read the same state from a file the runtime writes for them.
import * as path from 'path';
import { SkiffError } from '../errors';
import type { Hook, Spec } from '../oci/spec';
import { STATE_DIR_FILES } from './statedir';
import { writeFileAtomic } from '../atomic';


export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export function writeHookState(stateDir: string, state: HookState): string {
  const json = JSON.stringify(state);
  writeFileAtomic(path.join(stateDir, STATE_DIR_FILES.hookState), json, { mode: 0o644 });
  return json;
}

// The shape the addon builds HookSpec from: argv defaults to [path], as execve wants one.
export function nativeHooks(hooks: Hook[] | undefined) {
  return (hooks ?? []).map((h) => ({ path: h.path, args: h.args?.length ? h.args : [h.path], env: h.env ?? [], timeout: h.timeout ?? 0 }));
}

export function runHooks(kind: string, hooks: Hook[] | undefined, stateJson: string): void {
  if (!hooks?.length) return;
  // Loaded only when there is a hook to run: start and delete stay light without.
  const { spawnSync } = require('child_process') as typeof import('child_process');
  for (const h of hooks) {
    const [argv0, ...args] = h.args?.length ? h.args : [h.path];
    const env: NodeJS.ProcessEnv = {};
    for (const kv of h.env ?? []) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const r = spawnSync(h.path, args, {
      argv0, env, input: stateJson, encoding: 'utf8', stdio: ['pipe', 'inherit', 'pipe'],
      timeout: h.timeout ? h.timeout * 1000 : undefined, killSignal: 'SIGKILL',
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
      throw new SkiffError('setup', `${kind} hook ${h.path}: timed out after ${h.timeout}s`);
    }
    // A hook may exit without reading its stdin (runc ignores EPIPE there): its exit status
    // is its answer.
    const broken = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && r.status !== null;
    if (r.error && !broken) throw new SkiffError('setup', `${kind} hook ${h.path}: ${r.error.message}`);
    if (r.status !== 0) {
      const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
      throw new SkiffError('setup', `${kind} hook ${h.path}: ${why}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
    }
  }
}

export function hookState(spec: Spec, id: string, bundle: string, status: string, pid: number | undefined, ociVersion: string): HookState {
  const s: HookState = { ociVersion, id, status, bundle };
  if (pid !== undefined) s.pid = pid;
  if (spec.annotations) s.annotations = spec.annotations;
  return s;
}
