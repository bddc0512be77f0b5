import { features } from '../oci/features';
import { out } from './output';

export default function feat(): void {
  out(JSON.stringify(features(), null, 4) + '\n');
}
