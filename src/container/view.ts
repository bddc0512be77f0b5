// What `state` and `list` show: the runtime-spec state plus runc's rootfs/created/owner.
import type { State } from '../oci/spec';
import type { Status } from './status';
import type { ContainerState } from './store';

export function publicState(st: ContainerState, status: Status, owner: string): State {
  const s: State = {
    ociVersion: st.ociVersion,
    id: st.id,
    pid: status === 'stopped' ? 0 : st.pid,
    status,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    owner,
  };
  if (st.annotations && Object.keys(st.annotations).length) s.annotations = st.annotations;
  return s;
}
