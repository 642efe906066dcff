import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../src/main/gateway/lazy-schema-compilers.js';

describe('lazySchemaCompilers', () => {
  it('loads Fastify’s own validator and serializer when a route declares a schema', async () => {
    const app = Fastify({ logger: false, schemaController: { compilersFactory: lazySchemaCompilers } });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
          response: { 200: { type: 'object', properties: { greeting: { type: 'string' } } } },
        },
      },
      async (request) => ({ greeting: `hello ${(request.body as { name: string }).name}`, secret: 'not in the schema' }),
    );
    const refused = await app.inject({ method: 'POST', url: '/echo', payload: { other: 1 } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toContain("must have required property 'name'");
    const answered = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'Ada' } });
    expect(answered.statusCode).toBe(200);
    // The response schema's serializer drops what the schema does not name.
    expect(answered.json()).toEqual({ greeting: 'hello Ada' });
    await app.close();
  });
});
