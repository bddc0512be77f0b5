import type { Command } from 'commander';
import { features } from '../oci/features';
import { out } from './output';

export default function feat(_program: Command): void {
  out(JSON.stringify(features(), null, 4) + '\n');
}
