// containers-registries.d(5): where a registry's signatures are (lookaside storage) and whether
// its sigstore attachments are read. Every *.yaml file of the directory is merged; a scope (or
// default-docker) set in two files is an error, as in containers/image.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageError } from '../digest';
import { DockerRef, dockerNamespaces, refString } from '../policy/reference';

interface Section {
  lookaside?: string;
  sigstore?: string;
  'use-sigstore-attachments'?: boolean;
}

export interface RegistriesD {
  dir: string;
  defaultDocker?: Section;
  docker: Map<string, Section>;
}

function section(v: unknown, what: string): Section {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ImageError(`${what} must be a mapping`);
  const s = v as Record<string, unknown>;
  for (const k of ['lookaside', 'sigstore']) if (s[k] !== undefined && typeof s[k] !== 'string') throw new ImageError(`${what}.${k} must be a URL`);
  const u = s['use-sigstore-attachments'];
  if (u !== undefined && typeof u !== 'boolean') throw new ImageError(`${what}.use-sigstore-attachments must be true or false`);
  return s as Section;
}

export function defaultRegistriesDir(): string {
  const user = path.join(os.homedir(), '.config', 'containers', 'registries.d');
  return fs.existsSync(user) ? user : '/etc/containers/registries.d';
}

export function loadRegistriesD(dir = defaultRegistriesDir()): RegistriesD {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const YAML = require('yaml') as typeof import('yaml');
  const out: RegistriesD = { dir, docker: new Map() };
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort();
  } catch {
    return out; // no directory: built-in defaults only
  }
  for (const n of names) {
    const file = path.join(dir, n);
    let doc: unknown;
    try {
      doc = YAML.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ImageError(`registries.d ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new ImageError(`registries.d ${file}: must be a YAML mapping`);
    const d = doc as Record<string, unknown>;
    if (d['default-docker'] !== undefined) {
      if (out.defaultDocker) throw new ImageError(`registries.d ${file}: default-docker is set in another file too`);
      out.defaultDocker = section(d['default-docker'], `registries.d ${file}: default-docker`);
    }
    if (d.docker !== undefined && d.docker !== null) {
      if (typeof d.docker !== 'object' || Array.isArray(d.docker)) throw new ImageError(`registries.d ${file}: docker must be a mapping`);
      for (const [scope, v] of Object.entries(d.docker as Record<string, unknown>)) {
        if (out.docker.has(scope)) throw new ImageError(`registries.d ${file}: scope ${scope} is set in another file too`);
        out.docker.set(scope, section(v, `registries.d ${file}: docker.${scope}`));
      }
    }
  }
  return out;
}

/** The most specific section for the image; more general ones are ignored, as the man page says. */
function sectionFor(cfg: RegistriesD, ref: DockerRef): Section | undefined {
  for (const s of [refString(ref), ...dockerNamespaces(ref)]) {
    const hit = cfg.docker.get(s);
    if (hit) return hit;
  }
  return cfg.defaultDocker;
}

/** The lookaside base URL for the image's repository (the built-in default dir when none is set). */
export function lookasideBase(cfg: RegistriesD, ref: DockerRef): string {
  const s = sectionFor(cfg, ref);
  let top = s?.lookaside ?? s?.sigstore;
  if (!top) {
    const dir = process.geteuid?.() === 0 ? '/var/lib/containers/sigstore' : path.join(os.homedir(), '.local', 'share', 'containers', 'sigstore');
    top = `file://${dir}`;
  }
  return top.replace(/\/+$/, '') + '/' + ref.name.slice(ref.name.indexOf('/') + 1);
}

export function usesSigstoreAttachments(cfg: RegistriesD, ref: DockerRef): boolean {
  return sectionFor(cfg, ref)?.['use-sigstore-attachments'] === true;
}
