import type { Command } from 'commander';
import { deleteContainer } from '../container/ops';
import { store } from './main';

export default function del(program: Command, id: string, o: { force?: boolean }): void {
  deleteContainer(store(program), id, o.force === true);
}
