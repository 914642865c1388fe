import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkPolicies } from '../../compiler/auth/cedar-check.ts';
import { parseConfig } from '../../compiler/config/load.ts';
import { cedarAuthorizer } from '../../runtime/auth/authz/cedar.ts';
import { createLogger } from '../../runtime/log.ts';
import type { Principal } from '../../runtime/plugins.ts';

// The policies of examples/secure mean what its comments say.
const FILE = join(import.meta.dirname, '../../examples/secure/vmcp.yaml');
const text = readFileSync(FILE, 'utf8');
const authz = parse(text).incomingAuth.authz;
const who = (sub: string, claims: Record<string, unknown>): Principal => ({
  key: `i\n${sub}`,
  iss: 'i',
  sub,
  claims: { sub, ...claims },
  token: sub,
});

describe('examples/secure policies', () => {
  it('check clean against a catalog with the tools they name', () => {
    const parsed = parseConfig('vmcp.yaml', text).value!;
    const d = checkPolicies({
      file: 'vmcp.yaml',
      locator: parsed.locator,
      source: text,
      policies: authz.policies,
      entitiesJson: '[]',
      catalog: {
        tools: ['search_query', 'tickets_get', 'tickets_close'],
        prompts: [],
        resources: [],
        resourceTemplates: [],
      },
    });
    expect(d).toEqual([]);
  });

  it('everyone searches; support handles tickets; only a lead closes them', () => {
    const a = cedarAuthorizer(
      { type: 'cedar', policies: authz.policies, entitiesJson: '[]', groupClaimName: 'groups' },
      createLogger({}, 'silent'),
    );
    const guest = who('guest', {});
    const support = who('sam', { groups: ['support'] });
    const lead = who('lee', { groups: ['support'], role: 'lead' });
    expect(a.isAllowed(guest, 'call_tool', 'Tool', 'search_query')).toBe(true);
    expect(a.isAllowed(guest, 'call_tool', 'Tool', 'tickets_get')).toBe(false);
    expect(a.isAllowed(support, 'call_tool', 'Tool', 'tickets_get')).toBe(true);
    expect(a.isAllowed(support, 'call_tool', 'Tool', 'tickets_close')).toBe(false);
    expect(a.isAllowed(lead, 'call_tool', 'Tool', 'tickets_close')).toBe(true);
  });
});
