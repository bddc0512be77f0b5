import type { Command } from 'commander';
import { loadContainer } from '../container/ops';
import { publicState } from '../container/view';
import { store } from './main';
import { out } from './output';

export default function state(program: Command, id: string): void {
  const c = loadContainer(store(program), id, false);
  // runc prints it indented and without a trailing newline.
  out(JSON.stringify(publicState(c.state, c.status, ''), null, 2));
}
