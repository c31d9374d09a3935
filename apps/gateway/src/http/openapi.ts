import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiParam, ApiQuery, ApiResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { INestApplication } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { Problem, StateValue } from '@troupe/contracts';

// Named schemas (zod's global registry ids) become one shared component each, e.g. the recursive StateValue.
if (!z.globalRegistry.has(StateValue)) z.globalRegistry.add(StateValue, { id: 'StateValue' });

/**
 * Shared schemas met while converting: zod v4 puts recursive and reused parts in `$defs`; they move to
 * `components.schemas` under a name unique to the conversion, and `$ref`s are rewritten to point there.
 */
const components: Record<string, SchemaObject> = {};
let conversions = 0;

/**
 * The OpenAPI 3.0 schema of a zod schema (zod v4's `z.toJSONSchema`, target `openapi-3.0`), as a request
 * (`input`: defaults optional, coercions as their input) or a response (`output`).
 */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  const prefix = `Schema${++conversions}`;
  const defs = (json.$defs ?? json.definitions ?? {}) as Record<string, unknown>;
  delete json.$defs;
  delete json.definitions;
  delete json.$schema;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') {
        const name = inner.replace(/^#\/(\$defs|definitions)\//, '');
        out.$ref = inner === '#' ? `#/components/schemas/${prefix}` : `#/components/schemas/${componentName(prefix, name)}`;
      } else {
        out[key] = rewrite(inner);
      }
    }
    return out;
  };
  for (const [name, def] of Object.entries(defs)) components[componentName(prefix, name)] = rewrite(def) as SchemaObject;
  const root = rewrite(json) as SchemaObject;
  if (JSON.stringify(json).includes('"$ref":"#"')) components[prefix] = root;
  return root;
}

/** A registry id names its component once for all conversions; zod's generated names are per conversion. */
function componentName(prefix: string, name: string): string {
  return name.startsWith('__schema') ? `${prefix}.${name}` : name;
}

/** Documents the request body with its zod schema. */
export const ZodBody = (schema: z.ZodType) => ApiBody({ schema: openApiSchema(schema, 'input') });

/** Documents a response with its zod schema. */
export const ZodResponse = (status: number, description: string, schema: z.ZodType) =>
  ApiResponse({ status, description, schema: openApiSchema(schema, 'output') });

/** Documents each property of a zod object as a query parameter. */
export function ZodQuery(schema: z.ZodObject) {
  const json = openApiSchema(schema, 'input') as { properties?: Record<string, SchemaObject>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property }),
    ),
  );
}

/** Documents a path parameter with its zod schema. */
export const ZodParam = (name: string, schema: z.ZodType) => ApiParam({ name, schema: openApiSchema(schema, 'input') });

/** The problem+json answers every authenticated route may give. */
export function ProblemResponses(...statuses: number[]) {
  const problem = openApiSchema(Problem, 'output');
  const descriptions: Record<number, string> = {
    400: 'invalid input (problem+json with `issues`)',
    401: 'no or invalid credential',
    403: 'role not allowed',
    404: 'not found',
    409: 'conflict with the current state',
  };
  return applyDecorators(
    ...[401, 403, ...statuses].map((status) =>
      ApiResponse({ status, description: descriptions[status] ?? 'error', content: { 'application/problem+json': { schema: problem } } }),
    ),
  );
}

/**
 * Builds the OpenAPI 3 document (`GET /docs-json`) and serves Swagger UI at `/docs`: both public.
 * Security schemes: `X-Api-Key` and `Authorization: Bearer <JWT>`.
 */
export function setUpOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Troupe gateway')
    .setDescription('Operators over HTTP: workflows, approvals, dead letters, live feeds. Errors are RFC 9457 application/problem+json.')
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'jwt')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...components } };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return document;
}
