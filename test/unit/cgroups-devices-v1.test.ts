// The v1 devices transition: from what devices.list shows to what the rules make, in the
// fewest lines and never through "deny all" between two deny-by-default states (runc's
// emulator). The kernel side is in test/integration/parity-cli-cgroups.test.ts.
import t from 'tap';
import { deviceTransition, parseDeviceList, stateAfter } from '../../src/cgroups/v1/devices';
import { effectiveRules } from '../../src/cgroups/devices';
import type { DeviceRule } from '../../src/oci/spec';

const denyAll: DeviceRule = { allow: false, access: 'rwm' };
const listOf = (rules: DeviceRule[]) => [...stateAfter(rules).allowed].map(([k, a]) => `${k} ${a}`).join('\n');

t.test('a fresh cgroup (allow-all) gets the whole list, deny-all first', async (t) => {
  const lines = deviceTransition(parseDeviceList('a *:* rwm\n'), effectiveRules([denyAll]));
  t.same(lines[0], ['devices.deny', 'a']);
  t.ok(lines.length > 5);
});

t.test('the same rules again: nothing to write', async (t) => {
  const rules = effectiveRules([denyAll]);
  t.same(deviceTransition(parseDeviceList(listOf(rules)), rules), []);
});

t.test('a populated cgroup with other rules: only the difference, never "a"', async (t) => {
  const before = effectiveRules([denyAll, { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }]);
  const after = effectiveRules([denyAll, { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' }]);
  const lines = deviceTransition(parseDeviceList(listOf(before)), after);
  t.same(lines, [['devices.allow', 'c 4:1 rw'], ['devices.deny', 'c 10:229 rwm']]);
});

t.test('access letters are taken away one by one', async (t) => {
  const lines = deviceTransition(parseDeviceList('c 1:3 rwm\nc *:* m\n'), [denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
  t.same(lines, [['devices.deny', 'c 1:3 m'], ['devices.deny', 'c *:* m']]);
});

t.test('rules that end allowing all, or exceptions to allow-all: the whole list', async (t) => {
  const current = parseDeviceList('c 1:3 rwm\n');
  t.same(deviceTransition(current, [{ allow: true, access: 'rwm' }]), [['devices.allow', 'a']]);
  const exceptions = [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }];
  t.same(deviceTransition(current, exceptions), [['devices.allow', 'a'], ['devices.deny', 'c 1:3 w']]);
});
