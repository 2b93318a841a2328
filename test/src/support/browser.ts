import { type Browser, chromium, type Page } from 'playwright-core';
import { testEnvironment } from './test-environment.js';

/** Debian's Chromium (or AIRLOCK_TEST_CHROMIUM), headless: playwright-core downloads no browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: testEnvironment.chromiumPath, args: ['--no-sandbox'] });
}

/** A page of the web app, with what happened on it: script errors, and the confirmations it asked. */
export type WatchedPage = Page & {
  problems: string[];
  asked: string[];
  /** How the next confirmations are answered. */
  answer: 'accept' | 'dismiss';
};

/** Opens the web app at `baseUrl` and signs in with `token` (a tenant key or the admin token). */
export async function signedInPage(browser: Browser, baseUrl: string, token: string): Promise<WatchedPage> {
  const page: WatchedPage = Object.assign(await browser.newPage(), { problems: [] as string[], asked: [] as string[], answer: 'accept' as const });
  page.on('pageerror', (error) => page.problems.push(error.message));
  page.on('dialog', (dialog) => {
    page.asked.push(dialog.message());
    void (page.answer === 'accept' ? dialog.accept() : dialog.dismiss());
  });
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('api-key').fill(token);
  await page.getByTestId('sign-in').click();
  return page;
}
