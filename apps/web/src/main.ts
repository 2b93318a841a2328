import './style.css';
import { ApiClient, ApiError, storedKey, storeKey } from './api-client.js';
import { fill } from './dom.js';
import { signInView, type Tenant } from './sign-in.js';
import { Workbench } from './workbench.js';

const root = document.getElementById('app')!;

function showSignIn(problem?: string): void {
  fill(root, signInView(signedIn, problem));
}

let workbench: Workbench | null = null;

function signOut(problem?: string): void {
  storeKey(null);
  workbench?.dispose();
  workbench = null;
  showSignIn(problem);
}

function signedIn(client: ApiClient, key: string, tenant: Tenant): void {
  storeKey(key);
  const session = client.withSignOut(() => signOut('Your key is no longer accepted (revoked?): sign in again.'));
  workbench = new Workbench(session, tenant.name, () => signOut());
  fill(root, workbench.element);
  void workbench.start();
}

// A key kept from earlier in this tab is checked again: it may have been revoked since.
const kept = storedKey();
if (kept === null) {
  showSignIn();
} else {
  const client = new ApiClient(kept);
  client
    .get<Tenant>('/v1/me')
    .then((tenant) => signedIn(client, kept, tenant))
    .catch((error: unknown) => {
      // Only a refused key is forgotten: if Airlock was briefly away, reloading the page tries it again.
      if (error instanceof ApiError && error.status === 401) signOut('Your key is no longer accepted (revoked?): sign in again.');
      else showSignIn(`Airlock did not answer as expected: ${error instanceof Error ? error.message : String(error)}`);
    });
}
