import type { Command } from 'commander';
import { loadContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import { store } from './main';

export default function resume(program: Command, id: string): void {
  const c = loadContainer(store(program), id);
  assertAllowed('resume', c.status, id);
  c.cgroups.thaw();
}
