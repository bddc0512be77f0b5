// containers-policy.json(5): parsed as strictly as containers/image parses it (an unknown,
// missing or mistyped field refuses the whole file), and the requirements that apply to an image
// looked up per transport and scope, the most specific scope winning.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageError } from '../digest';
import { checkPrefix, isNameOnly, parseDockerRef } from './reference';

export type IdentityRule =
  | { type: 'matchExact' | 'matchRepoDigestOrExact' | 'matchRepository' }
  | { type: 'exactReference'; dockerReference: string }
  | { type: 'exactRepository'; dockerRepository: string }
  | { type: 'remapIdentity'; prefix: string; signedPrefix: string };

export type Requirement =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  /** keys: binary or armored OpenPGP keyrings, with where each came from */
  | { type: 'signedBy'; keys: { data: Buffer; from: string }[]; signedIdentity: IdentityRule }
  | { type: 'sigstoreSigned'; key: { data: Buffer; from: string }; signedIdentity: IdentityRule };

export interface Policy {
  file: string;
  default: Requirement[];
  transports: Record<string, Record<string, Requirement[]>>;
}

/** The transports Skiff reads images through, as containers-transports(5) names them. */
export type Transport = 'docker' | 'oci' | 'oci-archive' | 'docker-archive';

type Obj = Record<string, unknown>;

function fields(o: unknown, what: string, required: string[], optional: string[] = []): Obj {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ImageError(`${what} must be a JSON object`);
  const known = new Set([...required, ...optional]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new ImageError(`${what}: unknown field ${JSON.stringify(k)}`);
  for (const k of required) if (!(k in o)) throw new ImageError(`${what}: missing field ${JSON.stringify(k)}`);
  return o as Obj;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || !v) throw new ImageError(`${what} must be a non-empty string`);
  return v;
}

function parseIdentity(o: unknown, what: string): IdentityRule {
  if (o === undefined) return { type: 'matchRepoDigestOrExact' };
  const type = fields(o, what, ['type'], ['dockerReference', 'dockerRepository', 'prefix', 'signedPrefix']).type;
  switch (type) {
    case 'matchExact': case 'matchRepoDigestOrExact': case 'matchRepository':
      fields(o, `${what} (${type})`, ['type']);
      return { type };
    case 'exactReference': {
      const ref = str(fields(o, `${what} (${type})`, ['type', 'dockerReference']).dockerReference, `${what}.dockerReference`);
      if (isNameOnly(parseDockerRef(ref))) throw new ImageError(`${what}.dockerReference ${JSON.stringify(ref)} must have a tag or digest`);
      return { type, dockerReference: ref };
    }
    case 'exactRepository': {
      const repo = str(fields(o, `${what} (${type})`, ['type', 'dockerRepository']).dockerRepository, `${what}.dockerRepository`);
      if (!isNameOnly(parseDockerRef(repo))) throw new ImageError(`${what}.dockerRepository ${JSON.stringify(repo)} must be a repository (no tag or digest)`);
      return { type, dockerRepository: repo };
    }
    case 'remapIdentity': {
      const f = fields(o, `${what} (${type})`, ['type', 'prefix', 'signedPrefix']);
      return { type, prefix: checkPrefix(f.prefix, `${what}.prefix`), signedPrefix: checkPrefix(f.signedPrefix, `${what}.signedPrefix`) };
    }
    default:
      throw new ImageError(`${what}: unknown signedIdentity type ${JSON.stringify(type)}`);
  }
}

function keyFile(p: unknown, what: string): { data: Buffer; from: string } {
  const file = str(p, what);
  try {
    return { data: fs.readFileSync(file), from: file };
  } catch (e) {
    throw new ImageError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function keyData(v: unknown, what: string): { data: Buffer; from: string } {
  return { data: Buffer.from(str(v, what), 'base64'), from: 'keyData' };
}

function parseRequirement(o: unknown, what: string): Requirement {
  const type = fields(o, what, ['type'], ['keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity', 'fulcio', 'rekorPublicKeyPath', 'rekorPublicKeyData']).type;
  const w = `${what} (${String(type)})`;
  switch (type) {
    case 'insecureAcceptAnything': case 'reject':
      fields(o, w, ['type']);
      return { type };
    case 'signedBy': {
      const f = fields(o, w, ['type', 'keyType'], ['keyPath', 'keyPaths', 'keyData', 'signedIdentity']);
      if (f.keyType !== 'GPGKeys') throw new ImageError(`${w}: keyType ${JSON.stringify(f.keyType)} is not supported (only "GPGKeys")`);
      const given = ['keyPath', 'keyPaths', 'keyData'].filter((k) => k in f);
      if (given.length !== 1) throw new ImageError(`${w}: exactly one of keyPath, keyPaths and keyData must be set`);
      let keys: { data: Buffer; from: string }[];
      if (f.keyPath !== undefined) keys = [keyFile(f.keyPath, `${w}.keyPath`)];
      else if (f.keyPaths !== undefined) {
        if (!Array.isArray(f.keyPaths) || f.keyPaths.length === 0) throw new ImageError(`${w}.keyPaths must be a non-empty array of paths`);
        keys = f.keyPaths.map((p, i) => keyFile(p, `${w}.keyPaths[${i}]`));
      } else keys = [keyData(f.keyData, `${w}.keyData`)];
      return { type, keys, signedIdentity: parseIdentity(f.signedIdentity, `${w}.signedIdentity`) };
    }
    case 'sigstoreSigned': {
      const f = fields(o, w, ['type'], ['keyPath', 'keyData', 'signedIdentity', 'fulcio', 'rekorPublicKeyPath', 'rekorPublicKeyData']);
      for (const k of ['fulcio', 'rekorPublicKeyPath', 'rekorPublicKeyData']) {
        if (k in f) throw new ImageError(`${w}: ${k} is not supported by Skiff (only key-based sigstore signatures: keyPath or keyData)`);
      }
      const given = ['keyPath', 'keyData'].filter((k) => k in f);
      if (given.length !== 1) throw new ImageError(`${w}: exactly one of keyPath and keyData must be set`);
      const key = f.keyPath !== undefined ? keyFile(f.keyPath, `${w}.keyPath`) : keyData(f.keyData, `${w}.keyData`);
      return { type, key, signedIdentity: parseIdentity(f.signedIdentity, `${w}.signedIdentity`) };
    }
    default:
      throw new ImageError(`${what}: unknown requirement type ${JSON.stringify(type)}`);
  }
}

function parseRequirements(v: unknown, what: string): Requirement[] {
  if (!Array.isArray(v)) throw new ImageError(`${what} must be an array of requirements`);
  if (v.length === 0) throw new ImageError(`${what}: the list of requirements must not be empty`);
  return v.map((r, i) => parseRequirement(r, `${what}[${i}]`));
}

// A scope's form per transport; scopes of transports Skiff does not read are kept unchecked.
function checkScope(transport: string, scope: string, what: string): void {
  if (scope === '') return;
  if (transport === 'docker') {
    if (/^\*\.[a-zA-Z0-9.-]+$/.test(scope)) return;
    try {
      parseDockerRef(scope);
    } catch {
      if (!/^[a-zA-Z0-9.-]+(:\d+)?$/.test(scope)) throw new ImageError(`${what}: invalid docker scope`);
    }
  } else if (transport === 'oci' || transport === 'oci-archive') {
    if (!scope.startsWith('/') || scope === '/') throw new ImageError(`${what}: a ${transport} scope must be an absolute path other than "/"`);
  } else if (transport === 'docker-archive') {
    throw new ImageError(`${what}: docker-archive has no scopes other than the default ""`);
  }
}

export function parsePolicy(text: string, file: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ImageError(`policy ${file}: not valid JSON (${(e as Error).message})`);
  }
  const at = `policy ${file}`;
  const top = fields(doc, at, ['default'], ['transports']);
  const policy: Policy = { file, default: parseRequirements(top.default, `${at}: default`), transports: {} };
  if (top.transports !== undefined) {
    const ts = fields(top.transports, `${at}: transports`, [], Object.keys((top.transports ?? {}) as Obj));
    for (const [name, scopes] of Object.entries(ts)) {
      const sc = fields(scopes, `${at}: transports.${name}`, [], Object.keys((scopes ?? {}) as Obj));
      policy.transports[name] = {};
      for (const [scope, reqs] of Object.entries(sc)) {
        const w = `${at}: transports.${name}[${JSON.stringify(scope)}]`;
        checkScope(name, scope, w);
        policy.transports[name][scope] = parseRequirements(reqs, w);
      }
    }
  }
  return policy;
}

/** --policy FILE, else $HOME/.config/containers/policy.json if it exists, else /etc/containers/policy.json. */
export function loadPolicy(file?: string): Policy {
  const chosen = file ?? [path.join(os.homedir(), '.config', 'containers', 'policy.json'), '/etc/containers/policy.json'].find((f) => fs.existsSync(f))
    ?? '/etc/containers/policy.json';
  let text: string;
  try {
    text = fs.readFileSync(chosen, 'utf8');
  } catch (e) {
    throw new ImageError(`policy ${chosen}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${file ? '' : '; give one with --policy'}`);
  }
  return parsePolicy(text, chosen);
}

/** The requirements for an image: its own scope, then the namespaces, the transport's "", the default. */
export function requirementsFor(p: Policy, transport: Transport, identity: string, namespaces: string[]): { scope: string; reqs: Requirement[] } {
  const t = p.transports[transport];
  if (t) {
    for (const s of [identity, ...namespaces]) if (s !== '' && t[s]) return { scope: `${transport} scope ${JSON.stringify(s)}`, reqs: t[s] };
    if (t['']) return { scope: `${transport} default ""`, reqs: t[''] };
  }
  return { scope: 'the default', reqs: p.default };
}
