import type { Invocation } from '../main';
import { openStore } from './common';

export default function imageUnbundle(inv: Invocation): void {
  (require('../../image/bundle') as typeof import('../../image/bundle')).removeBundle(openStore(inv), inv.args[0]);
}
