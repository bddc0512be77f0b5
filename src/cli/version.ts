// `skiff --version` in runc's layout: the version line scripts match, then commit, spec and the
// libraries this build runs on (runc prints go: and libseccomp:; ours is the JS runtime).
import { SPEC_VERSION } from '../oci/defaults';

export const VERSION = '0.1.0';

// dist/buildinfo.json, written at build time by tools/buildinfo.js. A literal require: the
// compiled bin/skiff holds it in its bundle (its __dirname is not a directory on disk).
function commit(): string {
  try {
    const info = require('../../buildinfo.json') as { commit?: unknown };
    if (typeof info.commit === 'string' && info.commit) return info.commit;
  } catch {
    // a build without the step: say so rather than guess
  }
  return 'unknown (no dist/buildinfo.json)';
}

function libseccomp(): string {
  try {
    return (require('../native') as typeof import('../native')).native().seccompVersion();
  } catch {
    return 'unknown (addon not loaded)';
  }
}

// The lines after "skiff version X": what runc prints under VERSION: in -h as well.
export function versionDetails(): string {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string };
  const runtime = versions.bun ? `bun: ${versions.bun}` : `node: ${process.version}`;
  return `commit: ${commit()}\nspec: ${SPEC_VERSION}\n${runtime}\nlibseccomp: ${libseccomp()}\n`;
}

export function versionText(): string {
  return `skiff version ${VERSION}\n${versionDetails()}`;
}
