// Kubernetes' recommended node: containerd's CRI with SystemdCgroup = true on a systemd host
// (test/vm/run-systemd.sh), Skiff and runc handlers side by side: see cri-helpers.ts. Skips
// itself where PID 1 is not systemd.
import * as fs from 'fs';
import { criSuite } from './cri-helpers';

const pid1 = fs.readFileSync('/proc/1/comm', 'utf8').trim();
criSuite({ systemd: true, skip: pid1 === 'systemd' ? false : `needs systemd as PID 1 (here it is ${pid1}): run it in test/vm/run-systemd.sh` });
