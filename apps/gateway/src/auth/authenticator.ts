import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Role } from '@troupe/contracts';
import type { AuthSettings } from '../config';
import type { Principal } from './principal';

/** Injection token of the gateway's {@link Authenticator}. */
export const AUTHENTICATOR = Symbol('AUTHENTICATOR');

/** Why a credential was refused (the 401 problem's detail). */
export class CredentialRejectedError extends Error {}

/** SHA-256 of a key's UTF-8 bytes as lower-case hex: the form API keys are configured in. */
export function sha256Hex(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Turns a presented credential into a {@link Principal}: an API key (compared by its SHA-256 in
 * constant time against every configured hash), or a JWT bearer token verified with `jose`
 * (signature against the configured JWKS, `iss`, `aud` when configured, `exp`/`nbf` with 30 s of
 * clock tolerance). A JWT's identity is its `sub`; its roles are the known role names of its `roles`
 * claim.
 */
export class Authenticator {
  private readonly hashes: Array<{ hash: Buffer; id: string; roles: Role[] }>;
  private readonly keySet: JWTVerifyGetKey | null;

  constructor(private readonly settings: AuthSettings) {
    this.hashes = settings.apiKeys.map((key) => ({ hash: Buffer.from(key.sha256, 'hex'), id: key.id, roles: key.roles }));
    const jwks = settings.jwt?.jwks;
    this.keySet = jwks === undefined ? null : 'url' in jwks ? createRemoteJWKSet(jwks.url) : createLocalJWKSet(jwks.keys as never);
  }

  /** True when at least one kind of credential is configured. */
  get configured(): boolean {
    return this.hashes.length > 0 || this.keySet !== null;
  }

  /** @throws CredentialRejectedError when no configured key has this hash. */
  apiKey(key: string): Principal {
    const hash = createHash('sha256').update(key, 'utf8').digest();
    let found: (typeof this.hashes)[number] | undefined;
    // Compare against every entry, so the time taken does not tell which one matched.
    for (const entry of this.hashes) if (timingSafeEqual(entry.hash, hash)) found = entry;
    if (found === undefined) throw new CredentialRejectedError('unknown API key');
    return { id: found.id, roles: found.roles, via: 'api-key' };
  }

  /** @throws CredentialRejectedError when JWTs are not configured or the token fails verification. */
  async bearer(token: string): Promise<Principal> {
    if (this.keySet === null || this.settings.jwt === null) throw new CredentialRejectedError('bearer tokens are not accepted (no TROUPE_JWT_ISSUER configured)');
    try {
      const { payload } = await jwtVerify(token, this.keySet, {
        issuer: this.settings.jwt.issuer,
        ...(this.settings.jwt.audience !== null ? { audience: this.settings.jwt.audience } : {}),
        clockTolerance: 30,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 256) throw new CredentialRejectedError('token has no usable sub claim');
      const claimed = Array.isArray(payload.roles) ? payload.roles : [];
      const roles = claimed.filter((role): role is Role => Role.safeParse(role).success);
      return { id: payload.sub, roles, via: 'jwt' };
    } catch (error) {
      if (error instanceof CredentialRejectedError) throw error;
      if (error instanceof joseErrors.JOSEError) throw new CredentialRejectedError(`invalid bearer token: ${error.code}: ${error.message}`);
      throw error;
    }
  }
}
