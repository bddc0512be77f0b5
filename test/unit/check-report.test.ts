// `skiff check`'s report: columns aligned per section, yes/no/?, long reasons wrapped under
// their column, and JSON with the same findings.
import t from 'tap';
import { formatReport, reportJson } from '../../src/check/report';
import type { Report } from '../../src/check/report';

const report: Report = {
  kernel: '6.1.0 x64',
  sections: [
    { title: 'Namespaces', findings: [{ name: 'time', ok: true, detail: '/proc/self/ns/time' }, { name: 'user', ok: false, detail: 'no' }] },
    { title: 'Security', findings: [{ name: 'LSMs', ok: null, detail: 'one two three four five six seven eight nine ten eleven twelve' }] },
  ],
};

t.test('text: aligned, marked, wrapped', async (t) => {
  t.equal(formatReport(report, 40), [
    'kernel 6.1.0 x64',
    '',
    'Namespaces',
    '  time  yes  /proc/self/ns/time',
    '  user  no   no',
    '',
    'Security',
    // at least 30 columns for the reason, whatever the width
    '  LSMs  ?    one two three four five six',
    '             seven eight nine ten eleven',
    '             twelve',
    '',
  ].join('\n'));
});

t.test('json: the same findings', async (t) => {
  const back = JSON.parse(reportJson(report));
  t.same(back, report);
  t.equal(back.sections[1].findings[0].ok, null, 'unknown stays null, not false');
});
