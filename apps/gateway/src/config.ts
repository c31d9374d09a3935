import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BaseEnvironment, ConfigurationError, Role, formatIssues } from '@troupe/contracts';

/**
 * One configured API key: the caller presents the key in `X-Api-Key`; only its SHA-256 (lower-case
 * hex of the key's UTF-8 bytes) is configured. `id` is the identity written into decisions.
 */
export const ApiKeyEntry = z.object({
  id: z.string().min(1).max(256),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of the key\'s SHA-256')
    .transform((hex) => hex.toLowerCase()),
  roles: z.array(Role).min(1),
});
export type ApiKeyEntry = z.infer<typeof ApiKeyEntry>;

/** A JSON array of {@link ApiKeyEntry} with unique ids and hashes. */
export const ApiKeyList = z
  .array(ApiKeyEntry)
  .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'ids must be unique')
  .refine((keys) => new Set(keys.map((k) => k.sha256)).size === keys.length, 'hashes must be unique');

const jsonText = z.string().transform((text, context) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    context.addIssue({ code: 'custom', message: `not JSON (${(error as Error).message})` });
    return z.NEVER;
  }
});

const removed = (instead: string) =>
  z.undefined({ error: `removed: the gateway authenticates every caller now; configure ${instead}` }).optional();

/** Gateway environment, parsed once at boot. */
export const GatewayEnvironment = BaseEnvironment.extend({
  /** HTTP port (default 3000). */
  TROUPE_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Interface to bind (default 127.0.0.1). */
  TROUPE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** API keys as a JSON array `[{ id, sha256, roles }]` (see {@link ApiKeyEntry}). */
  TROUPE_GATEWAY_API_KEYS: jsonText.pipe(ApiKeyList).optional(),
  /** A file holding the same JSON array (e.g. a mounted secret); keys from both are used. */
  TROUPE_GATEWAY_API_KEYS_FILE: z.string().min(1).optional(),
  /** JWT bearer tokens: the required `iss`. Setting it needs one of the two key sets below. */
  TROUPE_JWT_ISSUER: z.string().min(1).optional(),
  /** JWT bearer tokens: the required `aud`, when set. */
  TROUPE_JWT_AUDIENCE: z.string().min(1).optional(),
  /** JWT bearer tokens: a remote JWKS (RFC 7517) URL, fetched and cached by `jose`. */
  TROUPE_JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** JWT bearer tokens: a local JWKS JSON file. */
  TROUPE_JWT_JWKS_FILE: z.string().min(1).optional(),
  /** HTTP rate limit: requests per window per caller (principal id, else client address); 0 turns it off. */
  TROUPE_RATE_LIMIT: z.coerce.number().int().min(0).default(6_000),
  /**
   * HTTP rate limit of requests without a valid credential (401s) per window per client address; over
   * it, every request from the address is 429 until the window ends. 0 turns it off.
   */
  TROUPE_UNAUTHENTICATED_RATE_LIMIT: z.coerce.number().int().min(0).default(120),
  /** HTTP rate limit window (of both limits), ms. */
  TROUPE_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** Largest JSON request body, bytes (bigger: 413 problem+json). */
  TROUPE_HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(256 * 1_024),
  TROUPE_GATEWAY_PRINCIPAL_ID: removed('TROUPE_GATEWAY_API_KEYS or TROUPE_JWT_*'),
  TROUPE_GATEWAY_PRINCIPAL_ROLES: removed('the roles of each API key or the JWT roles claim'),
}).superRefine((env, context) => {
  const keySets = [env.TROUPE_JWT_JWKS_URL, env.TROUPE_JWT_JWKS_FILE].filter((v) => v !== undefined).length;
  if (env.TROUPE_JWT_ISSUER !== undefined && keySets !== 1) {
    context.addIssue({ code: 'custom', path: ['TROUPE_JWT_JWKS_URL'], message: 'with TROUPE_JWT_ISSUER set exactly one of TROUPE_JWT_JWKS_URL and TROUPE_JWT_JWKS_FILE is needed' });
  }
  if (env.TROUPE_JWT_ISSUER === undefined && (keySets > 0 || env.TROUPE_JWT_AUDIENCE !== undefined)) {
    context.addIssue({ code: 'custom', path: ['TROUPE_JWT_ISSUER'], message: 'required when TROUPE_JWT_JWKS_URL, TROUPE_JWT_JWKS_FILE or TROUPE_JWT_AUDIENCE is set' });
  }
});
export type GatewayEnvironment = z.infer<typeof GatewayEnvironment>;

/** How JWT bearer tokens are verified. `jwks` is a URL (remote) or the parsed JWKS of a file. */
export interface JwtSettings {
  issuer: string;
  audience: string | null;
  jwks: { url: URL } | { keys: { keys: Array<Record<string, unknown>> } };
}

/** What the gateway authenticates against, read once at boot. */
export interface AuthSettings {
  apiKeys: ApiKeyEntry[];
  jwt: JwtSettings | null;
}

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

function readJsonFile<T>(file: string, schema: z.ZodType<T>, key: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError([`${key}: cannot read ${file} (${(error as Error).message})`]);
  }
  const parsed = jsonText.pipe(schema).safeParse(text);
  if (!parsed.success) throw new ConfigurationError(formatIssues(parsed.error).map((issue) => `${key} (${file}) ${issue}`));
  return parsed.data;
}

/**
 * The authentication settings of a parsed environment: API keys from `TROUPE_GATEWAY_API_KEYS` and
 * `TROUPE_GATEWAY_API_KEYS_FILE`, the JWT issuer, audience and key set.
 *
 * @throws ConfigurationError naming the key when a file cannot be read or fails its schema, or an id
 *   or hash appears twice across both sources.
 */
export function authSettingsFrom(env: GatewayEnvironment): AuthSettings {
  const apiKeys = [
    ...(env.TROUPE_GATEWAY_API_KEYS ?? []),
    ...(env.TROUPE_GATEWAY_API_KEYS_FILE !== undefined ? readJsonFile(env.TROUPE_GATEWAY_API_KEYS_FILE, ApiKeyList, 'TROUPE_GATEWAY_API_KEYS_FILE') : []),
  ];
  const merged = ApiKeyList.safeParse(apiKeys);
  if (!merged.success) throw new ConfigurationError(formatIssues(merged.error).map((issue) => `TROUPE_GATEWAY_API_KEYS + TROUPE_GATEWAY_API_KEYS_FILE: ${issue}`));
  let jwt: JwtSettings | null = null;
  if (env.TROUPE_JWT_ISSUER !== undefined) {
    jwt = {
      issuer: env.TROUPE_JWT_ISSUER,
      audience: env.TROUPE_JWT_AUDIENCE ?? null,
      jwks:
        env.TROUPE_JWT_JWKS_URL !== undefined
          ? { url: new URL(env.TROUPE_JWT_JWKS_URL) }
          : { keys: readJsonFile(env.TROUPE_JWT_JWKS_FILE!, Jwks, 'TROUPE_JWT_JWKS_FILE') },
    };
  }
  return { apiKeys: merged.data, jwt };
}
