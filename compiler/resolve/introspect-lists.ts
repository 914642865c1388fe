/**
 * Reads one catalog kind from a connected backend, page by page, and keeps every well-formed item
 * exactly as listed. Lists are parsed loosely on purpose: the SDK's `listTools()` strips unknown
 * fields and rejects a whole list for one bad tool, which would pin less than the server offers.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import { diagnostic, type Diagnostic } from '../diagnostics.ts';
import { itemKey, lockItem, type CatalogKind, type LockedItem } from '../lock.ts';

/** More pages than any sane server sends; past it we assume a cursor loop. */
const MAX_PAGES = 1000;

const LIST_METHODS: Record<CatalogKind, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

/** Singular nouns for messages, e.g. `lists a malformed resource template "x"`. */
const NOUNS: Record<CatalogKind, string> = {
  tools: 'tool',
  prompts: 'prompt',
  resources: 'resource',
  resourceTemplates: 'resource template',
};

/** The list method for a catalog kind (for error messages). */
export function listMethod(kind: CatalogKind): string {
  return LIST_METHODS[kind];
}

/** Lists every item of `kind`, following `nextCursor`; bad and duplicate items become warnings. */
export async function listKind(
  client: Client,
  backend: string,
  kind: CatalogKind,
  options: RequestOptions,
): Promise<{ items: Record<string, LockedItem>; diagnostics: Diagnostic[] }> {
  const schema = z.object({ [kind]: z.array(z.unknown()), nextCursor: z.unknown().optional() }).passthrough();
  const items: Record<string, LockedItem> = {};
  const diagnostics: Diagnostic[] = [];
  const warn = (message: string, hint?: string) =>
    diagnostics.push(diagnostic('MALFORMED_ITEM', message, { severity: 'warning', hint }));
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  let index = 0;

  for (let page = 0; ; page++) {
    if (page >= MAX_PAGES) {
      warn(`backend "${backend}" sent more than ${MAX_PAGES} pages of ${LIST_METHODS[kind]}; the rest is left out`);
      break;
    }
    const params = cursor === undefined ? {} : { cursor };
    const result = await client.request({ method: LIST_METHODS[kind], params }, schema, options);
    for (const raw of result[kind] as unknown[]) {
      const at = index++;
      const problem = checkItem(kind, raw);
      const label = describeItem(kind, raw, at);
      if (problem) {
        warn(
          `backend "${backend}" lists a malformed ${NOUNS[kind]} ${label}: ${problem}; it is left out`,
          'fix the server, or exclude the backend',
        );
        continue;
      }
      const def = raw as Record<string, unknown>;
      const key = itemKey(kind, def) as string;
      if (Object.hasOwn(items, key)) {
        warn(`backend "${backend}" lists ${NOUNS[kind]} ${label} twice; the first one is kept`);
        continue;
      }
      items[key] = lockItem(def);
    }
    const next = result.nextCursor;
    if (next === undefined || next === null || next === '') break;
    if (typeof next !== 'string') {
      warn(`backend "${backend}" sent a non-string nextCursor in ${LIST_METHODS[kind]}; paging stopped`);
      break;
    }
    if (seenCursors.has(next)) {
      warn(`backend "${backend}" repeated the cursor ${JSON.stringify(next)} in ${LIST_METHODS[kind]}; paging stopped`);
      break;
    }
    seenCursors.add(next);
    cursor = next;
  }
  return { items, diagnostics };
}

/** Why an item cannot be pinned, or undefined when it is fine. */
function checkItem(kind: CatalogKind, raw: unknown): string | undefined {
  if (!isRecord(raw)) return 'it is not an object';
  const str = (field: string) =>
    typeof raw[field] === 'string' && raw[field] !== '' ? undefined : `it has no ${field}`;
  switch (kind) {
    case 'tools': {
      const schema = raw.inputSchema;
      if (str('name')) return str('name');
      if (!isRecord(schema)) return 'it has no inputSchema object';
      if (schema.type !== 'object') return `inputSchema.type must be "object", got ${JSON.stringify(schema.type)}`;
      return undefined;
    }
    case 'prompts':
      return str('name');
    case 'resources':
      return str('uri') ?? str('name');
    case 'resourceTemplates':
      return str('uriTemplate') ?? str('name');
  }
}

/** `"name"` when the item has a usable key, otherwise `#index` in the listing order. */
function describeItem(kind: CatalogKind, raw: unknown, index: number): string {
  const key = isRecord(raw) ? itemKey(kind, raw) : undefined;
  return key ? JSON.stringify(key) : `#${index}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
