import { describe, expect, it } from 'vitest';
import { Authenticator, CredentialRejectedError, sha256Hex } from './authenticator';

describe('Authenticator', () => {
  const authenticator = new Authenticator({
    apiKeys: [
      { id: 'ops-alice', sha256: sha256Hex('alice-key'), roles: ['operator'] },
      { id: 'bob', sha256: sha256Hex('bob-key'), roles: ['approver', 'viewer'] },
    ],
    jwt: null,
  });

  it('maps a configured API key to its identity and roles by the SHA-256 of the key', () => {
    expect(authenticator.apiKey('bob-key')).toEqual({ id: 'bob', roles: ['approver', 'viewer'], via: 'api-key' });
    expect(sha256Hex('alice-key')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an unknown key, and the configured hash itself presented as a key', () => {
    expect(() => authenticator.apiKey('carol-key')).toThrow(CredentialRejectedError);
    expect(() => authenticator.apiKey(sha256Hex('alice-key'))).toThrow(CredentialRejectedError);
  });

  it('refuses bearer tokens when no issuer is configured', async () => {
    await expect(authenticator.bearer('a.b.c')).rejects.toThrow(/not accepted/);
    expect(new Authenticator({ apiKeys: [], jwt: null }).configured).toBe(false);
  });
});
