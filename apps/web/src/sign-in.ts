import { ApiClient, ApiError } from './api-client.js';
import { explain } from './explain.js';
import { h } from './dom.js';

export interface Tenant {
  id: string;
  name: string;
}

/** Asks for a tenant API key and checks it with GET /v1/me before using it. */
export function signInView(onSignedIn: (client: ApiClient, key: string, tenant: Tenant) => void, problem?: string): HTMLElement {
  const key = h('input', { type: 'password', placeholder: 'ak_…', autocomplete: 'off', required: true, testId: 'api-key' });
  const message = h('p', { className: 'problem', testId: 'sign-in-problem' }, problem ?? '');
  const form = h(
    'form',
    { className: 'sign-in' },
    h('h2', {}, 'Sign in'),
    h('p', {}, "Paste one of your tenant's API keys. It is kept in this tab only and sent to this Airlock alone."),
    h('label', {}, 'API key ', key),
    h('button', { type: 'submit', testId: 'sign-in' }, 'Sign in'),
    message,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = key.value.trim();
    const client = new ApiClient(value);
    message.textContent = 'Checking…';
    client
      .get<Tenant>('/v1/me')
      .then((tenant) => onSignedIn(client, value, tenant))
      .catch((error: unknown) => {
        message.textContent = error instanceof ApiError && error.status === 401 ? 'That key is not valid (unknown, revoked or mistyped).' : explain(error);
      });
  });
  return form;
}
