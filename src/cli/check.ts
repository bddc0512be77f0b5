import { probeHost } from '../check/probes';
import { formatReport, reportJson } from '../check/report';
import type { Invocation } from './main';
import { out } from './output';

export default function check(inv: Invocation): void {
  const report = probeHost();
  out(inv.flags.json ? reportJson(report) : formatReport(report, process.stdout.columns || 100));
}
