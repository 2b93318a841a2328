import { ApiClient, ApiError } from './api-client.js';
import { explain } from './explain.js';
import { h } from './dom.js';

export interface Tenant {
  id: string;
  name: string;
}

/** Whom a credential belongs to: one tenant (an API key), or the operator (the admin token). */
export type Identity = { kind: 'tenant'; tenant: Tenant } | { kind: 'admin' };

/**
 * Asks Airlock whose credential this is: a tenant key answers GET /v1/me, the
 * admin token is let into the admin routes. Null when it is neither (unknown,
 * revoked or mistyped); other failures (Airlock away) are thrown.
 */
export async function identify(client: ApiClient): Promise<Identity | null> {
  try {
    return { kind: 'tenant', tenant: await client.get<Tenant>('/v1/me') };
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  try {
    await client.get('/v1/admin/tenants?limit=1');
    return { kind: 'admin' };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Asks for a tenant API key (the editor) or the admin token (the admin console) and checks it before using it. */
export function signInView(onSignedIn: (client: ApiClient, key: string, identity: Identity) => void, problem?: string): HTMLElement {
  const key = h('input', { type: 'password', placeholder: 'ak_… or the admin token', autocomplete: 'off', required: true, testId: 'api-key' });
  const message = h('p', { className: 'problem', testId: 'sign-in-problem' }, problem ?? '');
  const submit = h('button', { type: 'submit', testId: 'sign-in' }, 'Sign in');
  const form = h(
    'form',
    { className: 'sign-in' },
    h('h2', {}, 'Sign in'),
    h('p', {}, "Paste one of your tenant's API keys to write plugins, or the admin token to manage tenants. It is kept in this tab only and sent to this Airlock alone."),
    h('label', {}, 'API key or admin token ', key),
    submit,
    message,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = key.value.trim();
    const client = new ApiClient(value);
    message.textContent = 'Checking…';
    // Checked twice, the key would open two views, the first never closed.
    submit.disabled = true;
    identify(client)
      .then((identity) => {
        if (identity === null) message.textContent = 'That key is not valid (unknown, revoked or mistyped).';
        else onSignedIn(client, value, identity);
      })
      .catch((error: unknown) => (message.textContent = explain(error)))
      .finally(() => (submit.disabled = false));
  });
  return form;
}
