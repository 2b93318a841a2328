import './style.css';
import { ApiClient, storedKey, storeKey } from './api-client.js';
import { AdminConsole } from './admin-console.js';
import { fill } from './dom.js';
import { identify, type Identity, signInView } from './sign-in.js';
import { Workbench } from './workbench.js';

const root = document.getElementById('app')!;
const REFUSED = 'Your key or token is no longer accepted (revoked or changed?): sign in again.';
const EDITS_KEPT = 'Your changes not compiled are kept in this tab: they come back when you sign in with a key of the same tenant.';

function showSignIn(problem?: string): void {
  fill(root, signInView(signedIn, problem));
}

let view: Workbench | AdminConsole | null = null;

function signOut(problem?: string): void {
  storeKey(null);
  view?.dispose();
  view = null;
  showSignIn(problem);
}

function signedIn(client: ApiClient, key: string, identity: Identity): void {
  storeKey(key);
  // A refusal ends this session only: a late answer to one signed out since must not end the next.
  let own: Workbench | AdminConsole | null = null;
  const session = client.withSignOut(() => {
    if (view !== own) return;
    // Nobody chose to drop the edits not compiled: they wait for the tenant's next sign-in.
    const kept = own instanceof Workbench && own.keepUnsavedEdits();
    signOut(kept ? `${REFUSED} ${EDITS_KEPT}` : REFUSED);
  });
  own = identity.kind === 'tenant' ? new Workbench(session, identity.tenant, () => signOut()) : new AdminConsole(session, () => signOut());
  view = own;
  fill(root, own.element);
  void own.start();
}

// A key kept from earlier in this tab is checked again: it may have been revoked since.
const kept = storedKey();
if (kept === null) {
  showSignIn();
} else {
  const client = new ApiClient(kept);
  identify(client)
    .then((identity) => (identity === null ? signOut(REFUSED) : signedIn(client, kept, identity)))
    // Only a refused key is forgotten: if Airlock was briefly away, reloading the page tries it again.
    .catch((error: unknown) => showSignIn(`Airlock did not answer as expected: ${error instanceof Error ? error.message : String(error)}`));
}
