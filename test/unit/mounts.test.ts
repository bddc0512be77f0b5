import t from 'tap';
import { MS, parseOptions } from '../../src/oci/mountopts';
import { needsDevSetup } from '../../src/launch/mounts';

t.test('option words become flags, propagation and data', async (t) => {
  const o = parseOptions(['nosuid', 'noexec', 'ro', 'rslave', 'size=64k', 'mode=755'], 'm');
  t.equal(o.flags, MS.NOSUID | MS.NOEXEC | MS.RDONLY);
  t.equal(o.propagation, MS.SLAVE | MS.REC);
  t.same(o.data, ['size=64k', 'mode=755']);
  t.equal(parseOptions(['ro', 'rw'], 'm').flags, 0, 'later words win');
  t.equal(parseOptions(['rbind'], 'm').flags, MS.BIND | MS.REC);
  t.throws(() => parseOptions(['idmap'], 'mounts[3]'), /mounts\[3\]: mount option "idmap" is not supported/);
});

t.test('runc sets up /dev unless /dev is a bind mount', async (t) => {
  t.ok(needsDevSetup([{ destination: '/dev', type: 'tmpfs' }]));
  t.notOk(needsDevSetup([{ destination: '/dev/', type: 'bind', source: '/dev' }]));
  t.notOk(needsDevSetup([{ destination: '/dev', type: 'none', source: '/dev', options: ['rbind'] }]));
});
