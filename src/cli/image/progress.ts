// A progress line for save, load and commit on a terminal (redrawn at most every 100 ms, erased
// at the end); nothing when stderr is not a terminal.
export function byteProgress(verb: string, out: NodeJS.WriteStream = process.stderr): { update: (done: number, total: number) => void; done: () => void } {
  if (!out.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return {
    update: (done, total) => {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      drawn = true;
      out.write(`\r\x1b[K${verb}: ${mb(done)}/${mb(total)} MB${total ? ` (${Math.floor((done / total) * 100)}%)` : ''}`);
    },
    done: () => {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}

/** A count of steps done (load: blobs checked, layers unpacked), same terminal rules. */
export function stepProgress(verb: string, out: NodeJS.WriteStream = process.stderr): { step: (what: string) => void; done: () => void } {
  if (!out.isTTY) return { step: () => undefined, done: () => undefined };
  const counts = new Map<string, number>();
  let drawn = false;
  return {
    step: (what) => {
      counts.set(what, (counts.get(what) ?? 0) + 1);
      drawn = true;
      out.write(`\r\x1b[K${verb}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    },
    done: () => {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}
