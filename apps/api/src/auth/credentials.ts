import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `ak_<prefix>_<secret>`: the prefix finds the key, the secret proves it. */
const API_KEY_FORMAT = /^ak_([0-9a-f]{16})_([0-9a-f]{64})$/;

export interface GeneratedApiKey {
  /** The whole key, shown to the caller once and never stored. */
  key: string;
  prefix: string;
  secretHash: string;
}

export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Compares two SHA-256 hex digests in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { key: `ak_${prefix}_${secret}`, prefix, secretHash: sha256Hex(secret) };
}

export function parseApiKey(token: string): { prefix: string; secret: string } | null {
  const match = API_KEY_FORMAT.exec(token);
  return match === null ? null : { prefix: match[1]!, secret: match[2]! };
}

export function generateAdminToken(): string {
  return `at_${randomBytes(32).toString('hex')}`;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? '');
  return match === null ? null : match[1]!;
}
