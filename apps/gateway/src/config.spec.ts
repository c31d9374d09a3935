import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseEnvironment } from '@troupe/contracts';
import { GatewayEnvironment, authSettingsFrom } from './config';

const hash = 'a'.repeat(64);

describe('GatewayEnvironment', () => {
  it('reads API keys from TROUPE_GATEWAY_API_KEYS with lower-cased hashes', () => {
    const env = parseEnvironment(GatewayEnvironment, { TROUPE_GATEWAY_API_KEYS: JSON.stringify([{ id: 'ops', sha256: 'A'.repeat(64), roles: ['operator'] }]) });
    expect(authSettingsFrom(env)).toEqual({ apiKeys: [{ id: 'ops', sha256: hash, roles: ['operator'] }], jwt: null });
  });

  it('fails fast naming every bad key', () => {
    const attempt = () =>
      parseEnvironment(GatewayEnvironment, {
        TROUPE_GATEWAY_API_KEYS: JSON.stringify([{ id: 'ops', sha256: 'nope', roles: ['root'] }]),
        TROUPE_HTTP_PORT: 'eighty',
        TROUPE_JWT_JWKS_URL: 'https://idp.example/jwks.json',
      });
    expect(attempt).toThrow(ConfigurationError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('TROUPE_GATEWAY_API_KEYS.0.sha256');
    expect(message).toContain('TROUPE_GATEWAY_API_KEYS.0.roles.0');
    expect(message).toContain('TROUPE_HTTP_PORT');
  });

  it('refuses keys that are not JSON, and duplicate ids', () => {
    expect(() => parseEnvironment(GatewayEnvironment, { TROUPE_GATEWAY_API_KEYS: '[{' })).toThrow(/TROUPE_GATEWAY_API_KEYS: not JSON/);
    const twice = JSON.stringify([
      { id: 'ops', sha256: hash, roles: ['operator'] },
      { id: 'ops', sha256: 'b'.repeat(64), roles: ['viewer'] },
    ]);
    expect(() => parseEnvironment(GatewayEnvironment, { TROUPE_GATEWAY_API_KEYS: twice })).toThrow(/ids must be unique/);
  });

  it('needs exactly one key set with a JWT issuer, and an issuer with a key set', () => {
    expect(() => parseEnvironment(GatewayEnvironment, { TROUPE_JWT_ISSUER: 'https://idp.example' })).toThrow(/TROUPE_JWT_JWKS_URL/);
    expect(() => parseEnvironment(GatewayEnvironment, { TROUPE_JWT_JWKS_URL: 'https://idp.example/jwks.json' })).toThrow(/TROUPE_JWT_ISSUER: required/);
    const env = parseEnvironment(GatewayEnvironment, { TROUPE_JWT_ISSUER: 'https://idp.example', TROUPE_JWT_JWKS_URL: 'https://idp.example/jwks.json' });
    expect(authSettingsFrom(env).jwt).toEqual({ issuer: 'https://idp.example', audience: null, jwks: { url: new URL('https://idp.example/jwks.json') } });
  });

  it('refuses the removed TROUPE_GATEWAY_PRINCIPAL_* settings, saying what replaces them', () => {
    expect(() => parseEnvironment(GatewayEnvironment, { TROUPE_GATEWAY_PRINCIPAL_ID: 'operator' })).toThrow(/TROUPE_GATEWAY_PRINCIPAL_ID: removed.*TROUPE_GATEWAY_API_KEYS/);
  });
});
