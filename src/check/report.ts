// The `skiff check` report: sections of findings, each a yes/no (or "?" where it could not be
// told) and why. Formatting only; the probes are in probes.ts.
export interface Finding {
  name: string;
  ok: boolean | null;  // null: could not be told (say why)
  detail: string;
}

export interface Section {
  title: string;
  findings: Finding[];
}

export interface Report {
  kernel: string;
  sections: Section[];
}

const mark = (ok: boolean | null) => (ok === null ? '?' : ok ? 'yes' : 'no');

// Aligned columns per section: name, yes/no/?, why. A long detail wraps under its column.
export function formatReport(r: Report, width = 100): string {
  const lines = [`kernel ${r.kernel}`];
  for (const s of r.sections) {
    const nameWidth = Math.max(...s.findings.map((f) => f.name.length), 4) + 2;
    const detailAt = 2 + nameWidth + 5;
    const room = Math.max(30, width - detailAt);
    lines.push('', s.title);
    for (const f of s.findings) {
      const wrapped = wrap(f.detail, room);
      lines.push(`  ${f.name.padEnd(nameWidth)}${mark(f.ok).padEnd(5)}${wrapped[0] ?? ''}`.trimEnd());
      for (const more of wrapped.slice(1)) lines.push(' '.repeat(detailAt) + more);
    }
  }
  return lines.join('\n') + '\n';
}

function wrap(text: string, room: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

// --json: the same findings, for machines.
export function reportJson(r: Report): string {
  return JSON.stringify(r, null, 2) + '\n';
}
