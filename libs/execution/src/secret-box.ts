import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  id: string;
  key: Buffer;
}

const FORMAT = 'v1';

/**
 * Encrypts binding secrets with AES-256-GCM. Several keys can be known: the
 * first encrypts, every one decrypts, so keys rotate by putting a new one first
 * and keeping the old ones until everything is re-encrypted.
 * Sealed form: `v1:<key id>:<iv>:<tag>:<ciphertext>`, base64 parts.
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

  seal(plaintext: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is authenticated too: a sealed value cannot be moved under another key's name.
    cipher.setAAD(Buffer.from(id));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  open(sealed: string): string {
    const [format, id, iv, tag, ciphertext] = sealed.split(':');
    const key = id === undefined ? undefined : this.byId.get(id);
    if (format !== FORMAT || key === undefined || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`cannot open a secret sealed with key "${id}": unknown key or format`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(id!));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  /** The key id a sealed value was sealed with. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(':')[1];
  }
}
