// Simple signing (containers-signature(5)): an OpenPGP signed message whose literal data is the
// claim. Checked by Debian's gpgv against a keyring made of exactly the policy's keys, so only
// those keys are trusted; gpgv hands back the signed data only when the signature is good.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ImageError } from '../digest';

export type GpgResult = { ok: true; payload: Buffer; fingerprint: string } | { ok: false; reason: string };

function dearmor(data: Buffer, home: string, from: string): Buffer {
  if (!data.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP')) return data;
  const r = spawnSync('gpg', ['--homedir', home, '--batch', '--quiet', '--dearmor'], { input: data, maxBuffer: 64 << 20 });
  if (r.error) throw new ImageError(`cannot run gpg to read the key ${from}: ${r.error.message}`);
  if (r.status !== 0) throw new ImageError(`key ${from}: not an OpenPGP key (${r.stderr.toString().trim().split('\n')[0]})`);
  return r.stdout;
}

/** A verifier over a keyring of the given keys; close() removes its scratch dir. */
export class GpgVerifier {
  private readonly dir: string;
  private readonly keyring: string;
  private n = 0;
  constructor(readonly keys: { data: Buffer; from: string }[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-gpgv-'));
    this.keyring = path.join(this.dir, 'keyring.gpg');
    try {
      fs.writeFileSync(this.keyring, Buffer.concat(keys.map((k) => dearmor(k.data, this.dir, k.from))), { mode: 0o600 });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get keyNames(): string {
    return this.keys.map((k) => k.from).join(', ');
  }

  verify(signature: Buffer): GpgResult {
    const sig = path.join(this.dir, `sig-${this.n}`);
    const out = path.join(this.dir, `out-${this.n++}`);
    fs.writeFileSync(sig, signature, { mode: 0o600 });
    const r = spawnSync('gpgv', ['--homedir', this.dir, '--status-fd', '1', '--keyring', this.keyring, '--output', out, sig], { encoding: 'utf8' });
    if (r.error) throw new ImageError(`cannot run gpgv: ${r.error.message}`);
    const status = r.stdout.split('\n').filter((l) => l.startsWith('[GNUPG:] ')).map((l) => l.slice(9).split(' '));
    const line = (k: string) => status.find((s) => s[0] === k);
    const valid = line('VALIDSIG');
    if (r.status === 0 && valid) {
      const payload = fs.readFileSync(out);
      return { ok: true, payload, fingerprint: valid[valid.length - 1] || valid[1] };
    }
    const noKey = line('NO_PUBKEY') ?? line('ERRSIG');
    if (noKey) return { ok: false, reason: `made by key ${noKey[1]}, which is not among the trusted keys (${this.keyNames})` };
    const bad = line('BADSIG');
    if (bad) return { ok: false, reason: `bad signature by key ${bad[1]} (${bad.slice(2).join(' ')}): the signature or its content was altered` };
    for (const k of ['EXPKEYSIG', 'REVKEYSIG', 'EXPSIG']) {
      const s = line(k);
      if (s) return { ok: false, reason: `signature by key ${s[1]} not accepted: ${k === 'REVKEYSIG' ? 'the key is revoked' : 'expired'}` };
    }
    const why = r.stderr.split('\n').map((l) => l.replace(/^gpgv: /, '').trim()).filter(Boolean).pop() ?? `gpgv exited ${r.status}`;
    return { ok: false, reason: `not a valid OpenPGP signature (${why})` };
  }

  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
