import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  id: string;
  key: Buffer;
}

/**
 * What a sealed value belongs to. It is authenticated with the value, so the value opens only for its owner: sealed
 * secrets copied by someone with write access to the database onto another binding (or tenant) do not open there.
 */
export const sealedFor = {
  bindingSecrets: (tenantId: string, bindingId: string) => `binding-secrets:${tenantId}:${bindingId}`,
  webhookSecret: (tenantId: string, webhookId: string) => `webhook-secret:${tenantId}:${webhookId}`,
};

/** Sealed values of this form: `v2:<key id>:<iv>:<tag>:<ciphertext>`, bound to the key id and their owner. */
const FORMAT = 'v2';
/** The first form, still opened: bound to the key id only. Resealing moves a value to the current form. */
const LEGACY_FORMAT = 'v1';

/**
 * Encrypts binding secrets and webhook signing secrets with AES-256-GCM. Several keys can be known: the first
 * encrypts, every one decrypts, so keys rotate by putting a new one first; workers reseal what an older key (or the
 * older form) sealed (SecretResealer), after which the old key can go.
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly SecretKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    for (const { id, key } of keys) if (key.length !== 32) throw new Error(`secrets key "${id}" is not 32 bytes`);
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
    if (this.byId.size !== keys.length) throw new Error('secrets key ids must be unique');
  }

  /** Parses AIRLOCK_SECRETS_KEYS: `<id>:<base64>,<id>:<base64>...`. */
  static fromSetting(setting: string): SecretBox {
    return new SecretBox(
      setting.split(',').map((pair) => {
        const [id, key] = pair.split(':') as [string, string];
        return { id, key: Buffer.from(key, 'base64') };
      }),
    );
  }

  static generateSetting(): string {
    return `k${randomBytes(6).toString('hex')}:${randomBytes(32).toString('base64')}`;
  }

  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  /** What a value sealed now starts with: one that does not is due for resealing. */
  get currentPrefix(): string {
    return `${FORMAT}:${this.currentKeyId}:`;
  }

  /** Seals `plaintext` for `owner` (one of `sealedFor`'s): it opens only with the same owner. */
  seal(plaintext: string, owner: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(FORMAT, id, owner));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Opens a value sealed for `owner`; throws if it was sealed for another, with a key not held, or was altered. */
  open(sealed: string, owner: string): string {
    const [format, id, iv, tag, ciphertext] = sealed.split(':');
    const key = id === undefined ? undefined : this.byId.get(id);
    if ((format !== FORMAT && format !== LEGACY_FORMAT) || key === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`cannot open a secret sealed with key "${id}": unknown key or format`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(format === LEGACY_FORMAT ? Buffer.from(id!) : associatedData(format, id!, owner));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  /** The value sealed again with the current key and form, or null when it already is. Throws as `open` does. */
  reseal(sealed: string, owner: string): string | null {
    return sealed.startsWith(this.currentPrefix) ? null : this.seal(this.open(sealed, owner), owner);
  }

  /** The key id a sealed value was sealed with. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(':')[1];
  }
}

/** The format and key id are authenticated too: a sealed value cannot be moved under another key's name or form. */
function associatedData(format: string, keyId: string, owner: string): Buffer {
  return Buffer.from(JSON.stringify([format, keyId, owner]));
}
