// config.json validation without root: each error names its field.
import t from 'tap';
import { validateSpec } from '../../src/oci/validate';
import { defaultSpec } from '../../src/oci/defaults';

const base = () => JSON.parse(JSON.stringify(defaultSpec()));

t.test('the default spec is valid once the terminal is off', async (t) => {
  const s = base();
  s.process.terminal = false;
  t.doesNotThrow(() => validateSpec(s));
});

t.test('errors name the field', async (t) => {
  const cases: [(s: any) => void, RegExp][] = [
    [(s) => { s.ociVersion = 1; }, /^config\.json: ociVersion: must be a string$/],
    [(s) => { s.process.env = [1]; }, /process\.env\[0\]: must be a string/],
    [(s) => { s.process.capabilities.bogus = []; }, /process\.capabilities\.bogus: is not a capability set/],
    [(s) => { s.process.oomScoreAdj = 5000; }, /process\.oomScoreAdj: must be between -1000 and 1000/],
    [(s) => { s.mounts[0] = { type: 'proc' }; }, /mounts\[0\]\.destination: must be a string/],
    [(s) => { s.linux.uidMappings = [{ containerID: 0, hostID: 0 }]; }, /linux\.uidMappings\[0\]\.size: must be an integer/],
    [(s) => { s.linux.timeOffsets = { boottime: { secs: 1 } }; }, /linux\.timeOffsets: needs a time namespace/],
    [(s) => { s.linux.namespaces.push({ type: 'time' }); s.linux.timeOffsets = { boottime: { secs: 'x' } }; }, /linux\.timeOffsets\.boottime\.secs: must be an integer/],
    [(s) => { s.annotations = { a: 1 }; }, /annotations\.a: must be a string/],
    [(s) => { delete s.linux; }, /linux: is required/],
  ];
  for (const [edit, re] of cases) {
    const s = base();
    s.process.terminal = false;
    edit(s);
    t.throws(() => validateSpec(s), re, String(re));
  }
});
