// What the image commands share: the store they open and how sizes read.
import type { Store } from '../../image/store';
import type { Platform } from '../../image/media';
import type { Invocation } from '../main';

export function openStore(inv: Invocation): Store {
  const { Store: ImageStore, DEFAULT_IMAGE_ROOT } = require('../../image/store') as typeof import('../../image/store');
  return new ImageStore((inv.flags.imageRoot as string | undefined) ?? process.env.SKIFF_IMAGE_ROOT ?? DEFAULT_IMAGE_ROOT);
}

export function platformOf(inv: Invocation): Platform | undefined {
  const s = inv.flags.platform as string | undefined;
  return s ? (require('../../image/platform') as typeof import('../../image/platform')).parsePlatform(s) : undefined;
}

// Sizes as docker prints them: decimal units, one decimal place past bytes.
export function human(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n}${u[i]}`;
}

/** The signature policy (--policy, else the default file) and registries.d (--registries-d). */
export function policyOf(inv: Invocation): import('../../image/policy/policy').Policy {
  return (require('../../image/policy/policy') as typeof import('../../image/policy/policy')).loadPolicy(inv.flags.policy as string | undefined);
}

export function registriesDOf(inv: Invocation): import('../../image/signature/registriesd').RegistriesD {
  return (require('../../image/signature/registriesd') as typeof import('../../image/signature/registriesd')).loadRegistriesD(inv.flags.registriesD as string | undefined);
}
