import t from 'tap';
import { MOUNT_ATTR, MS, parseOptions } from '../../src/oci/mountopts';
import { needsDevSetup } from '../../src/launch/mounts';

t.test('option words become flags, propagation and data', async (t) => {
  const o = parseOptions(['nosuid', 'noexec', 'ro', 'rslave', 'size=64k', 'mode=755'], 'm');
  t.equal(o.flags, MS.NOSUID | MS.NOEXEC | MS.RDONLY);
  t.equal(o.propagation, MS.SLAVE | MS.REC);
  t.same(o.data, ['size=64k', 'mode=755']);
  t.equal(parseOptions(['ro', 'rw'], 'm').flags, 0, 'later words win');
  t.equal(parseOptions(['rbind'], 'm').flags, MS.BIND | MS.REC);
  t.throws(() => parseOptions(['tmpcopyup'], 'mounts[3]'), /mounts\[3\]: mount option "tmpcopyup" is not supported/);
});

t.test('recursive words become mount_setattr attributes, as runc reads them', async (t) => {
  const o = parseOptions(['rro', 'rnosuid', 'rexec'], 'm');
  t.equal(o.flags, 0, 'no MS_* flag for the mount itself');
  t.equal(o.recAttrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID);
  t.equal(o.recAttrClr, MOUNT_ATTR.NOEXEC);
  const a = parseOptions(['rnoatime'], 'm');
  t.equal(a.recAttrSet, MOUNT_ATTR.NOATIME);
  t.equal(a.recAttrClr, MOUNT_ATTR.ATIME_MASK, 'an atime mode clears the whole atime field');
  t.equal(parseOptions(['rrelatime'], 'm').recAttrClr, MOUNT_ATTR.ATIME_MASK, 'relatime is the field at 0');
  t.equal(parseOptions(['ridmap'], 'm').idmapRecursive, true);
  t.equal(parseOptions(['idmap'], 'm').idmapRecursive, false);
  t.equal(parseOptions(['bind'], 'm').idmapRecursive, undefined);
});

t.test('runc sets up /dev unless /dev is a bind mount', async (t) => {
  t.ok(needsDevSetup([{ destination: '/dev', type: 'tmpfs' }]));
  t.notOk(needsDevSetup([{ destination: '/dev/', type: 'bind', source: '/dev' }]));
  t.notOk(needsDevSetup([{ destination: '/dev', type: 'none', source: '/dev', options: ['rbind'] }]));
});
