// The bundle of `skiff run/create --image`: the image (pulled first when the store lacks it,
// under the signature policy) as an overlay bundle owned by one container, with the command
// replaced when one is given; removed with that container.
import * as fs from 'fs';
import * as path from 'path';
import { createBundle, loadImage, removeBundle } from './bundle';
import { ImageError } from './digest';
import { pullImage, PullOptions } from './pull';
import { findImage } from './refs';
import { Store, atomicWrite } from './store';

const OWNER = path.join('.skiff-image', 'owner.json');

export interface ImageBundleRequest {
  image: string;
  id: string;
  /** Where the bundle goes (default: the store's containers/<id>). */
  dir?: string;
  /** Replaces the image's Cmd (its Entrypoint stays), as `podman run IMAGE ARGS` does. */
  args?: string[];
  pull: PullOptions;
}

async function ensureImage(store: Store, ref: string, pull: PullOptions): Promise<string> {
  try {
    return findImage(store, ref).name;
  } catch (e) {
    if (!(e instanceof ImageError) || !/no such image/.test(e.message)) throw e;
  }
  return (await pullImage(store, ref, pull)).name;
}

export async function makeImageBundle(store: Store, req: ImageBundleRequest): Promise<string> {
  const name = await ensureImage(store, req.image, req.pull);
  const dir = path.resolve(req.dir ?? store.dir('containers', req.id));
  if (!req.dir) fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o711 });
  await createBundle(store, name, dir, 'auto');
  try {
    if (req.args?.length) {
      const file = path.join(dir, 'config.json');
      const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
      spec.process.args = [...(loadImage(store, name).config.config?.Entrypoint ?? []), ...req.args];
      atomicWrite(file, JSON.stringify(spec, null, 2) + '\n');
    }
    atomicWrite(path.join(dir, OWNER), JSON.stringify({ container: req.id, store: store.root }) + '\n');
  } catch (e) {
    removeBundle(store, dir);
    throw e;
  }
  return dir;
}

/** Removes the bundle if run/create --image made it for this container (any other is left alone). */
export function removeImageBundle(bundle: string | undefined, id: string): void {
  if (!bundle) return;
  let owner: { container?: string; store?: string };
  try {
    owner = JSON.parse(fs.readFileSync(path.join(bundle, OWNER), 'utf8'));
  } catch {
    return;
  }
  if (owner.container !== id || typeof owner.store !== 'string') return;
  removeBundle(new Store(owner.store), bundle);
}
