// Exact JSON numbers and the integer checks built on them, without root.
import t from 'tap';
import { JsonNumber, U32, U64, exactInteger, integerProblem, parseJson, toJson } from '../../src/oci/json';
import { parseSpec } from '../../src/oci/validate';
import { defaultSpec } from '../../src/oci/defaults';

// The default spec (terminal off) as indented text, edited as text, then parsed and checked.
function loadSpecText(edit: (text: string) => string) {
  const s = defaultSpec();
  s.process!.terminal = false;
  return parseSpec(edit(JSON.stringify(s, null, 1)));
}

t.test('parseJson keeps the literal where a double would change it', async (t) => {
  const v = parseJson('{"a": 18446744073709551615, "b": [1.0, 1e3, -0, 42, "9007199254740993"], "c": 9007199254740993, "d": "x\\"1.5"}') as any;
  t.ok(v.a instanceof JsonNumber);
  t.equal(v.a.text, '18446744073709551615');
  t.same(v.b.map((x: unknown) => (x instanceof JsonNumber ? `J${x.text}` : x)), ['J1.0', 'J1e3', -0, 42, '9007199254740993']);
  t.equal(v.c.text, '9007199254740993');
  t.equal(v.d, 'x"1.5', 'numbers inside strings are left alone');
  t.same(parseJson('{"plain": [0, 1, -5, 9007199254740991]}'), { plain: [0, 1, -5, 9007199254740991] });
});

t.test('parseJson throws what JSON.parse throws', async (t) => {
  for (const text of ['{"a": 18446744073709551615', '{"a": 1e400,}', '[01]']) {
    let expected = '';
    try {
      JSON.parse(text);
    } catch (e) {
      expected = (e as Error).message;
    }
    t.throws(() => parseJson(text), { message: expected }, text);
  }
});

t.test('toJson writes bigints and JsonNumbers as their digits, and round-trips', async (t) => {
  const text = '{"r":[{"soft":18446744073709551615,"hard":18446744073709551615}],"s":"\\u0001x","n":1.5e3,"b":1}';
  t.equal(toJson(parseJson(text)), text);
  t.equal(toJson({ big: 2n ** 64n - 1n, neg: -1n }), '{"big":18446744073709551615,"neg":-1}');
  t.equal(JSON.stringify(new JsonNumber('7')), '7', 'elsewhere a JsonNumber is its nearest double');
});

t.test('integer checks: exact, in range, and a double only where the caller needs one', async (t) => {
  t.equal(exactInteger(new JsonNumber('18446744073709551615')), 18446744073709551615n);
  t.equal(exactInteger(new JsonNumber('1.0')), null);
  t.equal(exactInteger(2 ** 60), null, 'a double past 2^53 has already lost the literal');
  t.equal(integerProblem(5, U32), undefined);
  t.equal(integerProblem('5', U32), 'must be an integer');
  t.equal(integerProblem(new JsonNumber('1e3'), U32), 'must be an integer, not 1e3');
  t.equal(integerProblem(-1, U32), 'must be between 0 and 4294967295, not -1');
  t.equal(integerProblem(new JsonNumber('18446744073709551616'), U64, true), 'must be between 0 and 18446744073709551615, not 18446744073709551616');
  t.equal(integerProblem(new JsonNumber('18446744073709551615'), U64, true), undefined);
  t.match(integerProblem(new JsonNumber('9007199254740993'), U64), /9007199254740993 cannot be represented exactly/);
  t.match(integerProblem(2 ** 64, U64), /cannot be represented exactly/);
});

t.test('config.json numbers are checked from their literal', async (t) => {
  const cases: [(text: string) => string, RegExp][] = [
    [(x) => x.replace('"hard": 1024', '"hard": 18446744073709551616'), /process\.rlimits\[0\]\.hard: must be between 0 and 18446744073709551615, not 18446744073709551616/],
    [(x) => x.replace('"hard": 1024', '"hard": 1024.0'), /process\.rlimits\[0\]\.hard: must be an integer, not 1024\.0/],
    [(x) => x.replace('"soft": 1024', '"soft": 1.024e3'), /process\.rlimits\[0\]\.soft: must be an integer, not 1\.024e3/],
    [(x) => x.replace('"hard": 1024', '"hard": -1'), /process\.rlimits\[0\]\.hard: must be between 0 and 18446744073709551615, not -1/],
    [(x) => x.replace('"uid": 0', '"uid": 4294967296'), /process\.user\.uid: must be between 0 and 4294967294/],
    [(x) => x.replace('"uid": 0', '"uid": 9007199254740993'), /process\.user\.uid: must be between 0 and 4294967294, not 9007199254740993/],
    [(x) => x.replace('"gid": 0', '"gid": 1e2'), /process\.user\.gid: must be an integer, not 1e2/],
    [(x) => x.replace('"terminal": false', '"terminal": false, "consoleSize": {"height": 65536, "width": 80}'), /process\.consoleSize\.height: must be between 0 and 65535/],
    [(x) => x.replace('"terminal": false', '"terminal": false, "oomScoreAdj": 1000.5'), /process\.oomScoreAdj: must be an integer, not 1000\.5/],
    [(x) => x.replace('"namespaces"', '"devices": [{"type": "c", "path": "/dev/x", "major": 4294967297, "minor": 1}], "namespaces"'),
      /linux\.devices\[0\]\.major: must be between 0 and 4294967295, not 4294967297/],
    [(x) => x.replace('"namespaces"', '"resources": {"memory": {"limit": 9223372036854775807}}, "namespaces"'),
      /linux\.resources\.memory\.limit: 9223372036854775807 cannot be represented exactly/],
    [(x) => x.replace('"namespaces"', '"resources": {"pids": {"limit": 1.5}}, "namespaces"'), /linux\.resources\.pids\.limit: must be an integer, not 1\.5/],
    [(x) => x.replace('"namespaces"', '"uidMappings": [{"containerID": 4294967295, "hostID": 0, "size": 2}], "namespaces"'),
      /linux\.uidMappings\[0\]\.containerID: 4294967295 \+ size 2 runs past 4294967295/],
    [(x) => x.replace('"namespaces"', '"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 65537}, "namespaces"'),
      /linux\.seccomp\.defaultErrnoRet: must be between 0 and 65535, not 65537/],
  ];
  for (const [edit, re] of cases) t.throws(() => loadSpecText(edit), re, String(re));
});

t.test('an rlimit of 2^64-1 is RLIM_INFINITY, exactly', async (t) => {
  const spec = loadSpecText((x) => x.replace('"hard": 1024', '"hard": 18446744073709551615'));
  const r = spec.process!.rlimits![0];
  t.ok(r.hard instanceof JsonNumber);
  t.match(toJson(spec), /"hard":18446744073709551615/, 'and state.json keeps it so');
});
