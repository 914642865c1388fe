import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJsonSchema } from '../../../compiler/schema-json.ts';
import { UNSUPPORTED_KEYS } from '../../../schemas/vmcp.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('schemas/vmcp.schema.json', () => {
  it('is generated from the zod schema and up to date', () => {
    const onDisk = readFileSync(join(ROOT, 'schemas/vmcp.schema.json'), 'utf8');
    expect(renderJsonSchema() === onDisk, 'schemas/vmcp.schema.json is stale: run npm run schema').toBe(true);
  });

  it('is strict and describes the top-level keys, unsupported ones included', () => {
    const schema = JSON.parse(renderJsonSchema()) as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name']);
    for (const key of [
      'name',
      'groupRef',
      'backends',
      'backendsFrom',
      'incomingAuth',
      'outgoingAuth',
      'aggregation',
      'operational',
      ...UNSUPPORTED_KEYS.map((u) => u.path),
    ]) {
      expect(schema.properties, key).toHaveProperty([key]);
    }
  });
});
