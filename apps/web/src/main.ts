import './style.css';
import { ApiClient, storedKey, storeKey } from './api-client.js';
import { fill } from './dom.js';
import { signInView, type Tenant } from './sign-in.js';
import { Workbench } from './workbench.js';

const root = document.getElementById('app')!;

function showSignIn(problem?: string): void {
  fill(root, signInView(signedIn, problem));
}

function signedIn(client: ApiClient, key: string, tenant: Tenant): void {
  storeKey(key);
  const workbench = new Workbench(client, tenant.name, () => {
    storeKey(null);
    showSignIn();
  });
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
    .catch(() => {
      storeKey(null);
      showSignIn('Your key is no longer accepted: sign in again.');
    });
}
