import t from 'tap';
import { parse } from '../../src/cli/args';
import { COMMANDS, GLOBAL_FLAGS } from '../../src/cli/commands';

const p = (s: string) => parse(s.split(' ').filter(Boolean), GLOBAL_FLAGS, COMMANDS);

t.test('containerd-style command lines', async (t) => {
  const r = p('--root /run/x --log /l.json --log-format json create --bundle /b --pid-file /p id1');
  t.equal(r.global.root, '/run/x');
  t.equal(r.global.logFormat, 'json');
  t.equal(r.command!.name, 'create');
  t.same(r.flags, { bundle: '/b', pidFile: '/p', preserveFds: '0' });
  t.same(r.args, ['id1']);
  t.same(p('--root=/r delete --force id').flags, { force: true });
  t.same(p('kill --all id KILL').args, ['id', 'KILL']);
  t.same(p('kill id KILL -a').flags, { all: true }, 'flags after arguments');
  t.same(p('ps -f json id -ef').args, ['id', '-ef'], 'ps arguments are ps\'s own');
  t.same(p('run -d -b=/b id').flags, { bundle: '/b', detach: true, preserveFds: '0' });
  t.same(p('create -- -odd-id').args, ['-odd-id']);
  t.equal(p('create -- -odd-id').rest, undefined, '-- before the id only ends the flags');
  const img = p('run --image x id -- -c echo');
  t.same([img.args, img.rest], [['id'], ['-c', 'echo']], 'run --image ID -- ARGS');
  t.equal(p('rm id').command!.name, 'delete', 'aliases');
});

t.test('errors in runc words', async (t) => {
  t.throws(() => p('create'), /"create" requires exactly 1 argument/);
  t.throws(() => p('create a b'), /"create" requires exactly 1 argument/);
  t.throws(() => p('list --bogus'), /flag provided but not defined: -bogus/);
  t.throws(() => p('create --bundle'), /flag needs an argument: -bundle/);
  t.throws(() => p('nosuch'), /No help topic for 'nosuch'/);
});

t.test('version and help', async (t) => {
  t.equal(p('--version').help, false);
  t.equal(p('').help, true);
  t.equal(p('create --help').help, true);
});
