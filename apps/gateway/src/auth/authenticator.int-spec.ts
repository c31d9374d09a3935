import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, CredentialRejectedError } from './authenticator';

const ISSUER = 'https://issuer.troupe.test';

describe('Authenticator with a remote JWKS (a local HTTP server)', () => {
  let server: Server;
  let privateKey: CryptoKey;
  let authenticator: Authenticator;
  let requests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    server = createServer((_request, response) => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    authenticator = new Authenticator({ apiKeys: [], jwt: { issuer: ISSUER, audience: 'troupe', jwks: { url: new URL(`http://127.0.0.1:${port}/jwks.json`) } } });
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const sign = (key: CryptoKey, audience = 'troupe') =>
    new SignJWT({ roles: ['operator', 'approver'] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience(audience).setSubject('sam').setExpirationTime('2m').sign(key);

  it('verifies a token against the fetched key set and caches the set', async () => {
    expect(await authenticator.bearer(await sign(privateKey))).toEqual({ id: 'sam', roles: ['operator', 'approver'], via: 'jwt' });
    expect(await authenticator.bearer(await sign(privateKey))).toMatchObject({ id: 'sam' });
    expect(requests).toBe(1);
  });

  it('refuses a token for another audience and one signed by a key not in the set', async () => {
    await expect(authenticator.bearer(await sign(privateKey, 'someone-else'))).rejects.toBeInstanceOf(CredentialRejectedError);
    const stranger = await generateKeyPair('RS256');
    await expect(authenticator.bearer(await sign(stranger.privateKey))).rejects.toThrow(/invalid bearer token/);
  });
});
