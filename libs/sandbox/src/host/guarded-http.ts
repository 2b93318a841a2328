import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { HttpRequestSpec, HttpResponseSpec } from '../kernel/extism-kernel.js';
import { isPrivateAddress } from './private-address.js';

/** The sandbox refused the request: the plugin asked for something its policy forbids. */
export class HttpRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpRefusedError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface GuardedHttpOptions {
  /** `host` or `*.domain` patterns; a host matching none is refused. */
  allowedHosts: readonly string[];
  maxResponseBytes: number;
  /** Limit of one request, redirects included. */
  requestTimeoutMs: number;
  maxRedirects?: number;
  /** Resolves a host name; replaceable for tests and custom resolvers. Default: the system resolver. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  /**
   * Decides whether a resolved address may be reached. Default: no loopback,
   * private, link-local, CGNAT, metadata, multicast or reserved address.
   */
  isAddressAllowed?: (address: string, hostname: string) => boolean;
  /**
   * Only the answer's status and headers are wanted (a webhook's receiver says "accepted" by its status): the
   * exchange ends once they arrive, and the body, however large or slow, is neither read nor waited for.
   */
  statusOnly?: boolean;
}

/** Counts what requests send out, as metered usage. */
export interface EgressMeter {
  /** Bytes written to the network: request lines, headers and bodies, every hop, failed ones too. */
  bytesSent: number;
}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family }));

/**
 * An allowed-host entry as `hostAllowed` compares it: the host name a URL with
 * that host reports (lowercase, punycode, IPv4 in dotted decimal, IPv6
 * compressed and without brackets), without a final dot; a leading `*.` is
 * kept. Null when no URL could have that host (`999.1.1.1`, `a b`), so an
 * entry is never stored that can never match.
 */
export function canonicalHost(entry: string): string | null {
  const trimmed = entry.trim();
  const wildcard = trimmed.startsWith('*.');
  const host = (wildcard ? trimmed.slice(2) : trimmed).replace(/\.$/, '');
  if (host === '' || /[/?#@\\]/.test(host)) return null;
  const bare = host.replace(/^\[|\]$/g, '');
  let hostname: string;
  try {
    hostname = bareHostname(new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`));
  } catch {
    return null;
  }
  return wildcard ? `*.${hostname}` : hostname;
}

/** Whether `hostname` matches one of the patterns (`api.example.com`, `*.example.com`). */
export function hostAllowed(hostname: string, patterns: readonly string[]): boolean {
  // A trailing dot names the same host, fully qualified, on either side.
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return patterns
    .map((pattern) => pattern.toLowerCase().replace(/\.$/, ''))
    .some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern));
}

/**
 * Performs a plugin's HTTP request under its policy. Every hop (the first URL and
 * each redirect) must be http(s), on an allowed host, and resolve only to
 * addresses that are allowed; the connection goes to the address that was
 * checked (no second lookup for DNS rebinding to exploit). The response body
 * is capped while it streams, and the whole request is bounded in time.
 */
export async function guardedHttp(request: HttpRequestSpec, options: GuardedHttpOptions, egress: EgressMeter = { bytesSent: 0 }): Promise<HttpResponseSpec> {
  const resolve = options.resolve ?? systemResolve;
  const isAddressAllowed = options.isAddressAllowed ?? ((address: string) => !isPrivateAddress(address));
  const deadline = Date.now() + options.requestTimeoutMs;
  checkWellFormed(request.method, request.headers);
  let url = parseUrl(request.url);
  let method = request.method;
  let body = request.body;
  let headers = request.headers;
  for (let hop = 0; ; hop++) {
    const address = await vetDestination(url, options.allowedHosts, (hostname) => withinDeadline(resolve(hostname), deadline, options.requestTimeoutMs), isAddressAllowed);
    const response = await exchange(url, method, headers, body, address, deadline, options, egress);
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      if (hop >= (options.maxRedirects ?? 5)) throw new HttpRefusedError(`more than ${options.maxRedirects ?? 5} redirects`);
      const next = parseUrl(new URL(location, url).toString());
      // What was sent encrypted is not sent again in clear.
      if (url.protocol === 'https:' && next.protocol === 'http:') throw new HttpRefusedError(`a redirect from https to http (${next.origin.slice(0, 200)})`);
      // Credentials are for the origin they were sent to, not for wherever it redirects (as browsers do).
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      url = next;
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = null;
      }
      continue;
    }
    return response;
  }
}

// An HTTP token (RFC 9110): what a method may be.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers the sandbox writes itself, from the URL and the body: a plugin's own
 * `Host` would reach another site behind an allowed host's address (and name
 * it in TLS), and the others would change how the connection is framed.
 */
const SANDBOX_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'proxy-connection', 'expect']);

/** Headers that carry credentials: dropped when a redirect leaves the origin they were sent to. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())));
}

/**
 * A method and headers Node would refuse to send, or headers the sandbox sets
 * itself, are the plugin's mistake, to be refused as such (not a host failure,
 * which would be retried).
 */
function checkWellFormed(method: string, headers: Record<string, string>): void {
  if (!TOKEN.test(method)) throw new HttpRefusedError(`${JSON.stringify(method.slice(0, 100))} is not an HTTP method`);
  for (const [name, value] of Object.entries(headers)) {
    try {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch {
      throw new HttpRefusedError(`the header ${JSON.stringify(name.slice(0, 100))} is not a valid HTTP header name and value`);
    }
    if (SANDBOX_HEADERS.has(name.toLowerCase())) throw new HttpRefusedError(`the header ${name} is set by the sandbox (from the URL and the body), not by plugins`);
  }
}

/**
 * A lookup that answers by the request's deadline, or a refusal: a name server
 * that never answers must not hold the call (nor its share of the process's
 * resolver threads' attention) past its time.
 */
function withinDeadline<T>(pending: Promise<T>, deadline: number, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpRefusedError(`the request took longer than ${timeoutMs} ms (resolving its host)`)), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/** The URL's host name, an IPv6 address without its brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HttpRefusedError(`"${text.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpRefusedError(`${url.protocol.slice(0, 100)} URLs are not allowed`);
  return url;
}

async function vetDestination(
  url: URL,
  allowedHosts: readonly string[],
  resolve: (hostname: string) => Promise<ResolvedAddress[]>,
  isAddressAllowed: (address: string, hostname: string) => boolean,
): Promise<ResolvedAddress> {
  const hostname = bareHostname(url);
  if (!hostAllowed(hostname, allowedHosts)) throw new HttpRefusedError(`${hostname} is not an allowed host`);
  // A name that does not exist and one that resolves to an address it may not reach get the same answer, so that
  // plugins and webhooks cannot map the names and addresses of the network Airlock runs in.
  const unreachable = () => new HttpRefusedError(`${hostname} does not resolve to a public address`);
  let addresses: ResolvedAddress[];
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      addresses = await resolve(hostname);
    } catch (error) {
      if (error instanceof HttpRefusedError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND' || (error as NodeJS.ErrnoException).code === 'ENODATA') throw unreachable();
      // Anything else (a name server that failed or timed out) may pass: a host failure, retried.
      throw new Error(`cannot resolve ${hostname} now: ${(error as NodeJS.ErrnoException).code ?? 'lookup failed'}`, { cause: error });
    }
  }
  if (addresses.length === 0) throw unreachable();
  // All of them, not just the first: a name may hide a private address among public ones.
  const forbidden = addresses.find((entry) => !isAddressAllowed(entry.address, hostname));
  if (forbidden !== undefined) throw forbidden.address === hostname ? new HttpRefusedError(`${hostname} is a private or reserved address`) : unreachable();
  return addresses[0]!;
}

/**
 * A response Node's HTTP parser cannot read (headers past its 16 KiB, a
 * malformed status line or framing) is the remote server's doing, the same
 * whatever is retried: refused like a response past the size limit, never a
 * host failure that would have the call retried (and the server asked again).
 */
function refusedIfMalformed(error: Error): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('HPE_')) return error;
  const what = code === 'HPE_HEADER_OVERFLOW' ? 'has headers larger than 16 KiB' : `is not valid HTTP (${code})`;
  return new HttpRefusedError(`the response ${what}`);
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | null,
  address: ResolvedAddress,
  deadline: number,
  options: GuardedHttpOptions,
  egress: EgressMeter,
): Promise<HttpResponseSpec> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new HttpRefusedError(`the request took longer than ${options.requestTimeoutMs} ms`));
  // Connect to the vetted address, whatever a second lookup would say.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) callback(null, [address] as never, 0 as never);
    else callback(null, address.address, address.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // Once per exchange, whichever way it ends: what its socket wrote (nothing if it never connected).
    let metered = false;
    const meter = () => {
      if (!metered) egress.bytesSent += outgoing.socket?.bytesWritten ?? 0;
      metered = true;
    };
    // TLS names the URL's host (never a header's), and the certificate is checked against it.
    const hostname = bareHostname(url);
    const tls = client === https && isIP(hostname) === 0 ? { servername: hostname } : {};
    const outgoing = client.request(url, { method, headers, lookup: pinned, agent: false, ...tls }, (incoming) => {
      if (options.statusOnly) {
        clearTimeout(timer);
        meter();
        resolve({ status: incoming.statusCode ?? 0, headers: headersOf(incoming), body: new Uint8Array() });
        // Its own connection (no agent): closing it drops whatever body is still coming (and the error saying so).
        incoming.on('error', () => undefined);
        outgoing.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > options.maxResponseBytes) {
          outgoing.destroy(new HttpRefusedError(`the response is larger than ${options.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      incoming.on('end', () => {
        clearTimeout(timer);
        meter();
        resolve({ status: incoming.statusCode ?? 0, headers: headersOf(incoming), body: new Uint8Array(Buffer.concat(chunks)) });
      });
      incoming.on('error', (error) => {
        meter();
        reject(refusedIfMalformed(error));
      });
    });
    const timer = setTimeout(
      () => outgoing.destroy(new HttpRefusedError(`the request took longer than ${options.requestTimeoutMs} ms`)),
      remaining,
    );
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      meter();
      reject(refusedIfMalformed(error));
    });
    outgoing.end(body ?? undefined);
  });
}

/** A response's headers, one string each (repeated ones joined as HTTP allows). */
function headersOf(incoming: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
