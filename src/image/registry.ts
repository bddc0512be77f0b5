// A client for the OCI distribution API (v2): manifests and blobs, anonymous, basic and bearer
// token auth, redirects, https with the system CAs, resumable blob downloads.
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { createHash, Hash } from 'crypto';
import { ImageError, digestHex, sha256 } from './digest';
import { INDEX_TYPES, MANIFEST_TYPES, Descriptor } from './media';
import { RegistryRef } from './refs';
import { checkStaged, fsyncFile } from './ingest';

export interface RegistryOptions {
  insecure?: boolean;
  creds?: { username: string; password: string };
  /** Called with the bytes received for a blob, as they arrive. */
  onBytes?: (digest: string, n: number) => void;
  retries?: number;
  timeoutMs?: number;
  /** Where a failed download is kept so the next pull can resume it. */
  partialDir?: string;
}

const ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');
const MAX_MANIFEST = 8 << 20;

let systemCAs: (string | Buffer)[] | undefined;
/** Node ships its own CA list; registries behind a company CA need the system's as well. */
function cas(): (string | Buffer)[] {
  if (!systemCAs) {
    systemCAs = [...tls.rootCertificates];
    for (const f of [process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']) {
      if (f && fs.existsSync(f)) {
        systemCAs.push(fs.readFileSync(f));
        break;
      }
    }
  }
  return systemCAs;
}

function dockerConfigCreds(registry: string): RegistryOptions['creds'] {
  const file = process.env.DOCKER_CONFIG ? path.join(process.env.DOCKER_CONFIG, 'config.json') : path.join(os.homedir(), '.docker', 'config.json');
  try {
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    const keys = registry === 'docker.io' ? ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io'] : [registry, `https://${registry}`];
    for (const k of keys) {
      const a = cfg.auths?.[k]?.auth;
      if (a) {
        const s = Buffer.from(a, 'base64').toString();
        const i = s.indexOf(':');
        return { username: s.slice(0, i), password: s.slice(i + 1) };
      }
    }
  } catch {
    /* no config */
  }
  return undefined;
}

/** Parses `Bearer realm="…",service="…"` into its scheme and parameters. */
export function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(h) ?? ['', '', ''];
  const params: Record<string, string> = {};
  const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let x: RegExpExecArray | null;
  while ((x = re.exec(m[2]))) params[x[1].toLowerCase()] = x[2] !== undefined ? x[2].replace(/\\(.)/g, '$1') : x[3];
  return { scheme: m[1].toLowerCase(), params };
}

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  res: http.IncomingMessage;
}

export class RegistryClient {
  readonly host: string;
  private auth: string | undefined;
  private readonly creds: RegistryOptions['creds'];

  constructor(readonly ref: RegistryRef, readonly name: string, readonly opts: RegistryOptions = {}) {
    this.host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    this.creds = opts.creds ?? dockerConfigCreds(ref.registry);
  }

  private base(): string {
    return `${this.opts.insecure ? 'http' : 'https'}://${this.host}`;
  }

  private fail(what: string, msg: string): never {
    throw new ImageError(`${this.name}: ${what}: ${msg}`);
  }

  private send(url: URL, headers: Record<string, string>, what: string): Promise<Resp> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, {
        method: 'GET',
        headers: { 'User-Agent': 'skiff', ...headers },
        ...(url.protocol === 'https:' ? { ca: cas() } : {}),
        timeout: this.opts.timeoutMs ?? 30_000,
      }, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, res }));
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => {
        const hint = url.protocol === 'https:' && /EPROTO|wrong version number|packet length/i.test(e.message) ? ' (is it a plain-http registry? use --insecure)' : '';
        reject(new ImageError(`${this.name}: ${what}: cannot reach ${url.host}: ${e.message.split('\n')[0].replace(/:[^:]*openssl.*$/i, '')}${hint}`));
      });
      req.end();
    });
  }

  private async body(r: Resp, max = MAX_MANIFEST): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of r.res) {
      n += (c as Buffer).length;
      if (n > max) {
        r.res.destroy();
        throw new Error('response too large');
      }
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async errorText(r: Resp): Promise<string> {
    let detail = '';
    try {
      const b = await this.body(r, 64 << 10);
      const j = JSON.parse(b.toString());
      detail = (j.errors ?? []).map((e: { code?: string; message?: string }) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      /* not JSON */
    }
    return `registry ${this.host} answered ${r.status} ${http.STATUS_CODES[r.status] ?? ''}`.trim() + (detail ? ` (${detail})` : '');
  }

  /** Gets a token for the challenge (bearer) or prepares basic auth; false when we cannot answer it. */
  private async authenticate(challenge: string, what: string): Promise<boolean> {
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      if (!this.creds) return false;
      this.auth = 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64');
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:pull`);
    const headers: Record<string, string> = {};
    if (this.creds) headers.Authorization = 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64');
    const r = await this.send(url, headers, `${what}: token`);
    if (r.status !== 200) this.fail(`${what}: token from ${url.host}`, await this.errorText(r));
    let tok: string | undefined;
    try {
      const j = JSON.parse((await this.body(r, 1 << 20)).toString());
      tok = j.token ?? j.access_token;
    } catch {
      /* handled below */
    }
    if (!tok) this.fail(`${what}: token from ${url.host}`, 'the token server answered without a token');
    this.auth = `Bearer ${tok}`;
    return true;
  }

  /** GET with auth and redirects; returns the final response (any status). */
  async get(pathOrUrl: string, headers: Record<string, string>, what: string): Promise<Resp> {
    let url = new URL(pathOrUrl, this.base());
    let authed = false;
    for (let hops = 0; hops < 6; hops++) {
      const h = { ...headers };
      // Credentials go to the registry only, never to a storage backend it redirects to.
      if (this.auth && url.host === this.host) h.Authorization = this.auth;
      const r = await this.send(url, h, what);
      if (r.status === 401 && !authed && url.host === this.host) {
        r.res.resume();
        const ch = r.headers['www-authenticate'];
        authed = true;
        if (ch && (await this.authenticate(String(ch), what))) continue;
        this.fail(what, `registry ${this.host} requires authentication${this.creds ? ' and refused the credentials' : ' (no credentials: use --creds user:password)'}`);
      }
      if ([301, 302, 303, 307, 308].includes(r.status) && r.headers.location) {
        r.res.resume();
        url = new URL(r.headers.location, url);
        continue;
      }
      return r;
    }
    this.fail(what, 'too many redirects');
  }

  async getManifest(reference: string, what: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    return (await this.findManifest(reference, what, false))!;
  }

  /** The manifest, or undefined when the registry has none by that reference (404) and missingOk. */
  async findManifest(reference: string, what: string, missingOk = true): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined> {
    const r = await this.get(`/v2/${this.ref.repository}/manifests/${reference}`, { Accept: ACCEPT }, what);
    if (r.status === 401) this.fail(what, `registry ${this.host} refused the credentials`);
    if (r.status === 404 && missingOk) {
      r.res.resume();
      return undefined;
    }
    if (r.status !== 200) this.fail(what, await this.errorText(r));
    let bytes: Buffer;
    try {
      bytes = await this.body(r);
    } catch (e) {
      this.fail(what, `reading the manifest failed: ${(e as Error).message}`);
    }
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) this.fail(what, `manifest ${reference} does not match its digest (content is ${digest})`);
    const hdr = r.headers['docker-content-digest'];
    if (hdr && String(hdr).startsWith('sha256:') && hdr !== digest) this.fail(what, `manifest digest ${digest} differs from the registry's ${hdr}`);
    const ct = String(r.headers['content-type'] ?? '').split(';')[0].trim();
    let mediaType = ct;
    try {
      mediaType = JSON.parse(bytes.toString()).mediaType ?? ct;
    } catch {
      this.fail(what, `manifest ${digest} is not valid JSON`);
    }
    return { bytes, mediaType, digest };
  }

  async getSmallBlob(desc: Descriptor, what: string): Promise<Buffer> {
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const r = await this.get(`/v2/${this.ref.repository}/blobs/${desc.digest}`, {}, `blob ${desc.digest}`);
      if (r.status !== 200) this.fail(`blob ${desc.digest}`, await this.errorText(r));
      try {
        return await this.body(r);
      } catch (e) {
        if (attempt >= retries) this.fail(`blob ${desc.digest}`, `download failed after ${retries + 1} attempts: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Downloads a blob into file, verifying digest and size. On a dropped connection it resumes
   * with a Range request where the registry allows it (206), otherwise starts over; a download
   * that still fails is kept in partialDir for the next pull to resume.
   */
  async fetchBlob(desc: Descriptor, file: string, what: string): Promise<void> {
    const hex = digestHex(desc.digest);
    const partial = this.opts.partialDir ? path.join(this.opts.partialDir, hex) : undefined;
    let { hash, have } = claimPartial(partial, file, desc.size);
    const retries = this.opts.retries ?? 3;
    let lastErr = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (have === desc.size && desc.size > 0) break;
      const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
      let r: Resp;
      try {
        r = await this.get(`/v2/${this.ref.repository}/blobs/${desc.digest}`, headers, `blob ${desc.digest}`);
      } catch (e) {
        lastErr = (e as Error).message.slice(this.name.length + 2);
        if (/cannot reach/.test(lastErr) && attempt < retries) {
          await new Promise((res) => setTimeout(res, 200 * (attempt + 1)));
          continue;
        }
        throw e;
      }
      if (r.status === 200 && have > 0) {
        // The registry ignored the Range: start over.
        hash = createHash('sha256');
        have = 0;
        fs.truncateSync(file, 0);
      } else if (r.status === 416 && have > 0) {
        r.res.resume();
        hash = createHash('sha256');
        have = 0;
        fs.truncateSync(file, 0);
        continue;
      } else if (r.status !== 200 && r.status !== 206) {
        this.keepPartial(file, partial, have);
        this.fail(`blob ${desc.digest}`, await this.errorText(r));
      }
      lastErr = await receive(r, file, have > 0, (c) => {
        hash.update(c);
        have += c.length;
        this.opts.onBytes?.(desc.digest, c.length);
      });
      if (have >= desc.size) break;
      if (!lastErr) lastErr = `connection closed after ${have} of ${desc.size} bytes`;
    }
    if (have < desc.size) {
      this.keepPartial(file, partial, have);
      this.fail(`blob ${desc.digest}`, `download failed after ${retries + 1} attempts (${have} of ${desc.size} bytes): ${lastErr}`);
    }
    checkStaged(file, 'sha256:' + hash.digest('hex'), have, desc, this.name);
    await fsyncFile(file);
  }

  private keepPartial(file: string, partial: string | undefined, have: number): void {
    if (!partial || have === 0) return;
    try {
      fs.mkdirSync(path.dirname(partial), { recursive: true });
      fs.renameSync(file, partial);
    } catch {
      /* best effort */
    }
  }
}

// A download a previous pull left in partialDir, claimed for this one (only one process wins
// the rename), with what it holds already hashed; nothing to resume is a fresh start.
function claimPartial(partial: string | undefined, file: string, size: number): { hash: Hash; have: number } {
  const fresh = () => ({ hash: createHash('sha256'), have: 0 });
  if (!partial) return fresh();
  const got = fresh();
  try {
    fs.renameSync(partial, file);
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      got.hash.update(buf.subarray(0, n));
      got.have += n;
    }
    fs.closeSync(fd);
    if (got.have > size) {
      fs.truncateSync(file, 0);
      return fresh();
    }
    return got;
  } catch {
    return fresh();
  }
}

// Writes one response body to file; returns the error words if the connection broke ('' if
// not). Plain synchronous writes: a chunk lands in the page cache in microseconds, and a
// write stream's backpressure would pause the socket on nearly every chunk.
async function receive(r: Resp, file: string, append: boolean, onChunk: (c: Buffer) => void): Promise<string> {
  const fd = fs.openSync(file, append ? 'a' : 'w', 0o600);
  const closed = () => new Error('connection closed by the registry');
  try {
    await new Promise<void>((resolve, reject) => {
      r.res.on('data', (c: Buffer) => {
        onChunk(c);
        let off = 0;
        while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
      });
      r.res.on('aborted', () => reject(closed()));
      r.res.on('error', reject);
      r.res.on('close', () => (r.res.complete ? resolve() : reject(closed())));
      r.res.on('end', () => (r.res.complete ? resolve() : reject(closed())));
    });
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    fs.closeSync(fd);
  }
}
