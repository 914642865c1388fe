import { z } from 'zod';
import { VmcpConfigSchema } from '../schemas/vmcp.ts';
import { stableJson } from '../runtime/canonical.ts';

/** Renders `schemas/vmcp.schema.json` from the zod schema (input shape, so defaults are optional). */
export function renderJsonSchema(): string {
  const schema = z.toJSONSchema(VmcpConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return stableJson({ ...schema, $id: 'https://vmcp.dev/schemas/vmcp.schema.json' });
}
