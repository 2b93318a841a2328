import { type Browser, chromium } from 'playwright-core';
import { testEnvironment } from './test-environment.js';

/** Debian's Chromium (or AIRLOCK_TEST_CHROMIUM), headless: playwright-core downloads no browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: testEnvironment.chromiumPath, args: ['--no-sandbox'] });
}
