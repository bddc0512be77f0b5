// The fast paths of parseJson and toJson (no scan, no replacer) give what the slow ones give.
// A file of its own: toJson's fast path holds only while no JsonNumber exists in the process.
import t from 'tap';
import { JsonNumber, parseJson, toJson } from '../../src/oci/json';

t.test('while no JsonNumber exists, toJson is JSON.stringify, and bigints still come out exact', async (t) => {
  t.equal(JsonNumber.made, 0);
  t.equal(toJson({ a: 1, b: 'x', c: [true, null] }, 1), JSON.stringify({ a: 1, b: 'x', c: [true, null] }, null, 1));
  t.equal(toJson({ big: 2n ** 64n - 1n, n: 3 }), '{"big":18446744073709551615,"n":3}');
});

t.test('numbers that only look inexact inside strings leave the text on the fast path', async (t) => {
  const v = parseJson('{"ociVersion": "1.0.2-dev", "created": "2026-12-02T06:39:55.126Z", "pid": 28788, "n": 123456789012345, "e": "1e5 \\" 2.5"}') as any;
  t.same(v, { ociVersion: '1.0.2-dev', created: '2026-12-02T06:39:55.126Z', pid: 28788, n: 123456789012345, e: '1e5 " 2.5' });
  t.equal(JsonNumber.made, 0, 'no JsonNumber made');
});

t.test('a 16-digit integer, a fraction or an exponent outside strings takes the exact path', async (t) => {
  const v = parseJson('{"s": "x", "big": 9007199254740993, "f": 1.0, "e": 2E3, "safe": 9007199254740991}') as any;
  t.equal(v.big.text, '9007199254740993');
  t.equal(v.f.text, '1.0');
  t.equal(v.e.text, '2E3');
  t.equal(v.safe, 9007199254740991, 'a safe 16-digit integer stays a number');
  t.equal(toJson(v), '{"s":"x","big":9007199254740993,"f":1.0,"e":2E3,"safe":9007199254740991}', 'and round-trips');
});
