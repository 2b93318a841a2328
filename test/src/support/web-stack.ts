import type { Browser } from 'playwright-core';
import { type ApiHarness, type ApiHarnessOptions, startApi } from './api-harness.js';
import { launchChromium, signedInPage, type WatchedPage } from './browser.js';
import { type InProcessWorker, startWorker } from './pipeline.js';

/** What a browser test of the web app runs against: a real API and worker in this process, and Chromium. */
export interface WebStack {
  api: ApiHarness;
  worker: InProcessWorker;
  browser: Browser;
  /** Opens the web app signed in with `token` (a tenant key or the admin token); see signedInPage. */
  signIn(token: string): Promise<WatchedPage>;
  /** Closes the browser, the worker and the API. */
  close(): Promise<void>;
}

export async function startWebStack(options: { api?: ApiHarnessOptions; worker?: Parameters<typeof startWorker>[1] } = {}): Promise<WebStack> {
  const api = await startApi(options.api);
  let worker: InProcessWorker | undefined;
  try {
    worker = await startWorker(api, options.worker);
    const browser = await launchChromium();
    return {
      api,
      worker,
      browser,
      signIn: (token) => signedInPage(browser, api.baseUrl, token),
      close: async () => {
        await browser.close();
        await worker!.close();
        await api.close();
      },
    };
  } catch (error) {
    // What started is closed again: a test file whose stack failed to start leaves nothing running.
    await worker?.close();
    await api.close();
    throw error;
  }
}
