import t from 'tap';
import { allows, assertAllowed } from '../../src/container/status';
import { parseSignal } from '../../src/container/signals';
import { validateId } from '../../src/container/store';

t.test('the lifecycle: which operation each state allows', async (t) => {
  t.ok(allows('start', 'created'));
  for (const s of ['running', 'paused', 'stopped'] as const) t.notOk(allows('start', s));
  t.ok(allows('delete', 'stopped'));
  t.notOk(allows('delete', 'running'));
  t.notOk(allows('kill', 'stopped'));
  t.ok(allows('resume', 'paused'));
  t.throws(() => assertAllowed('start', 'stopped', 'x'), /cannot start a container that has stopped/);
  t.throws(() => assertAllowed('delete', 'paused', 'x'), /cannot delete container x that is not stopped: paused/);
  t.throws(() => assertAllowed('kill', 'stopped', 'x'), /container not running/);
});

t.test('signals by name, SIG name and number', async (t) => {
  t.equal(parseSignal('KILL'), 9);
  t.equal(parseSignal('SIGTERM'), 15);
  t.equal(parseSignal('10'), 10);
  t.equal(parseSignal('sigusr1'), 10);
  t.equal(parseSignal('RTMIN+2'), 36);
  t.throws(() => parseSignal('FOO'), /unknown signal "FOO"/);
  t.throws(() => parseSignal('99'), /unknown signal/);
});

t.test('container ids', async (t) => {
  for (const ok of ['a', 'abc-DEF_1.2+3']) t.doesNotThrow(() => validateId(ok));
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'ä']) t.throws(() => validateId(bad));
});

t.test('errors carry a kind that callers test, not their words', async (t) => {
  const { SkiffError, isKind, notExist } = await import('../../src/errors');
  const { ImageError } = await import('../../src/image/digest');
  t.ok(isKind(notExist(), 'notFound'));
  t.notOk(isKind(new Error('container does not exist'), 'notFound'), 'a plain error with the same words is not one');
  t.ok(new ImageError('bad layer') instanceof SkiffError, 'the image store throws the same type');
  t.equal(new ImageError('x').kind, 'image');
  const kindOf = (f: () => void) => { try { f(); } catch (e) { return (e as InstanceType<typeof SkiffError>).kind; } return undefined; };
  t.equal(kindOf(() => assertAllowed('start', 'running', 'x')), 'wrongState');
  t.equal(kindOf(() => validateId('a/b')), 'usage');
});
