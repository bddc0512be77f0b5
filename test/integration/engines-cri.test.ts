// Kubernetes' path with the cgroupfs driver: see cri-helpers.ts.
import { criSuite } from './cri-helpers';

criSuite({ systemd: false });
