import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import type { NextFunction, Request, Response } from 'express';
import { AppErrorCode } from '@airlock/errors';
import { requestIdOf } from '../errors/request-id.middleware.js';

export const EDITOR_PATH = '/editor/';

/**
 * What the editor's pages may do: load code, styles, fonts and workers from
 * here, call this API, and nothing else. Monaco sets styles inline and draws
 * its underlines with data: images, hence those two allowances. No framing
 * (clickjacking), no forms posting elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "img-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** Where `npm run build` puts the editor (apps/web/dist), or null when it was not built. */
export function webEditorDirectory(): string | null {
  const directory = fileURLToPath(new URL('dist/', import.meta.resolve('@airlock/web/package.json')));
  return existsSync(`${directory}index.html`) ? directory : null;
}

/**
 * Serves the web editor's built files at /editor/ and sends / there. Its
 * assets are named by content hash, so they are cached for good; the page
 * itself is revalidated, so a new build shows at once.
 */
export function serveWebEditor(app: NestExpressApplication, directory: string): void {
  app.use('/', (request: Request, response: Response, next: NextFunction) => {
    const path = request.path;
    if (path !== '/' && path !== '/editor' && !path.startsWith(EDITOR_PATH)) return next();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.status(405).set('Allow', 'GET, HEAD');
      return response.json({
        error: { code: AppErrorCode.MethodNotAllowed, message: `${request.method} is not allowed here: the web editor's pages are read with GET.` },
        requestId: requestIdOf(request),
      });
    }
    if (path === '/') return response.redirect(302, EDITOR_PATH);
    if (path === '/editor') return response.redirect(301, EDITOR_PATH);
    next();
  });
  // Monaco and its TypeScript worker are megabytes of text: sent compressed.
  app.use(EDITOR_PATH, compression());
  app.useStaticAssets(directory, {
    prefix: EDITOR_PATH,
    index: 'index.html',
    redirect: false,
    fallthrough: true,
    setHeaders: (response, path) => {
      response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      response.setHeader('X-Content-Type-Options', 'nosniff');
      response.setHeader('Referrer-Policy', 'no-referrer');
      response.setHeader('Cache-Control', path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
}
