import type { SealedSecretKind, SealedSecretRepository } from '@airlock/db';
import { type SecretBox, sealedFor } from './secret-box.js';

export interface ResealResult {
  /** Values sealed again under the current key and form. */
  resealed: number;
  /** Values that do not open with any key held (a key dropped too soon, damage, a value moved): left as they are. */
  unopenable: number;
  /** The first of those, as `binding <id>` or `webhook <id>`, for the operator to look into. */
  unopenableOwners: string[];
}

/** How many unopenable owners a sweep names. */
const NAMED_AT_MOST = 20;

const KINDS: SealedSecretKind[] = ['bindingSecrets', 'webhookSecret'];
const OWNER_NAMES: Record<SealedSecretKind, string> = { bindingSecrets: 'binding', webhookSecret: 'webhook' };

/**
 * Finishes a key rotation: seals again, with the current key and form, every stored secret sealed with an older key
 * or in the older form (bound to its key only, not to its owner). Once a sweep reports none left, older keys can be
 * dropped from AIRLOCK_SECRETS_KEYS. A value set anew meanwhile is left to its new sealing (compare and set).
 */
export class SecretResealer {
  constructor(
    private readonly sealedSecrets: SealedSecretRepository,
    private readonly box: SecretBox,
    private readonly batchSize = 200,
  ) {}

  async sweep(): Promise<ResealResult> {
    const total: ResealResult = { resealed: 0, unopenable: 0, unopenableOwners: [] };
    for (const kind of KINDS) {
      let afterId: string | null = null;
      for (;;) {
        const batch = await this.sealedSecrets.due(kind, this.box.currentPrefix, afterId, this.batchSize);
        for (const secret of batch) {
          let resealed: string | null;
          try {
            resealed = this.box.reseal(secret.sealed, sealedFor[kind](secret.tenantId, secret.id));
          } catch {
            total.unopenable++;
            if (total.unopenableOwners.length < NAMED_AT_MOST) total.unopenableOwners.push(`${OWNER_NAMES[kind]} ${secret.id}`);
            continue;
          }
          if (resealed !== null && (await this.sealedSecrets.replaceIfUnchanged(kind, secret, resealed))) total.resealed++;
        }
        if (batch.length < this.batchSize) break;
        afterId = batch.at(-1)!.id;
      }
    }
    return total;
  }
}
