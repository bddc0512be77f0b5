import type { Command } from 'commander';
import { startContainer } from '../container/ops';
import { store } from './main';

export default function start(program: Command, id: string): void {
  startContainer(store(program), id);
}
