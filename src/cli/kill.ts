import type { Command } from 'commander';
import { killContainer } from '../container/ops';
import { store } from './main';

export default function kill(program: Command, id: string, signal: string | undefined, o: { all?: boolean }): void {
  killContainer(store(program), id, signal, o.all === true);
}
