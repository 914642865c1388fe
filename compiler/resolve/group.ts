import { posix } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { BackendConfig, VmcpConfig } from '../../schemas/vmcp.ts';
import type { BackendIdentity } from '../lock.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { compareStrings } from '../../runtime/canonical.ts';
import { createLocator, type ConfigPath, type Locator } from '../config/locate.ts';
import type { BackendEndpoint, TransportKind } from '../../runtime/compiled-gateway.ts';
import { describeSource, type PinnedGroup } from './group-pin.ts';

/** A backend after group resolution, with where it was declared (for diagnostics). */
export interface ResolvedBackend extends BackendEndpoint {
  required: boolean;
  sessionAffinity?: 'shared' | 'per-session';
  identity: BackendIdentity;
  /** The file and path that declared it: `vmcp.yaml` + `backends[2]`, or an imported client config. */
  origin: { file: string; path: ConfigPath; locator: Locator };
}

/** Reads a file by path relative to the config; undefined when missing. Injected by the CLI. */
export type ReadFile = (path: string) => string | undefined;

/** Identity pinned in the lock: transport plus command and args, or URL. */
export function identityOf(b: {
  transport: TransportKind;
  command?: string;
  args?: string[];
  url?: string;
}): BackendIdentity {
  return b.transport === 'stdio'
    ? { transport: b.transport, command: b.command, args: b.args ?? [] }
    : { transport: b.transport, url: b.url };
}

/**
 * Resolves the group: inline `backends[]` plus the servers of every `backendsFrom` client config
 * (Claude Desktop / Cursor `mcpServers`, VS Code `servers`), plus the members of a looked-up
 * `groupRef` (`pinned`). A member whose name is also declared inline or imported is shadowed: the
 * definition in the user's files wins, with a warning naming both. The result is sorted by name.
 */
export function resolveGroup(
  config: VmcpConfig,
  file: string,
  locator: Locator,
  readFile: ReadFile,
  pinned?: PinnedGroup,
): { value: ResolvedBackend[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out: ResolvedBackend[] = [];
  config.backends.forEach((b, i) => out.push(fromConfig(b, { file, path: ['backends', i], locator })));

  const imports =
    config.backendsFrom === undefined
      ? []
      : Array.isArray(config.backendsFrom)
        ? config.backendsFrom
        : [config.backendsFrom];
  imports.forEach((rel, i) => {
    const path = Array.isArray(config.backendsFrom) ? ['backendsFrom', i] : ['backendsFrom'];
    const span = locator.at(path);
    const target = posix.join(posix.dirname(file), rel);
    const text = readFile(target);
    if (text === undefined) {
      diagnostics.push({
        code: 'GROUP_IMPORT',
        severity: 'error',
        message: `cannot read client config "${rel}" (looked for ${target})`,
        file,
        line: span.line,
        column: span.column,
        hint: 'the path is relative to the vmcp.yaml that names it',
      });
      return;
    }
    const imported = importClientConfig(target, text);
    diagnostics.push(...imported.diagnostics);
    out.push(...imported.value);
  });
  if (pinned) addMembers(out, pinned, { file, path: ['groupRef'], locator }, diagnostics);
  out.sort((a, b) => compareStrings(a.name, b.name));
  return { value: out, diagnostics };
}

/** Adds the group's members as HTTP backends, after the inline and imported ones they may clash with. */
function addMembers(
  out: ResolvedBackend[],
  group: PinnedGroup,
  origin: ResolvedBackend['origin'],
  diagnostics: Diagnostic[],
): void {
  const declared = new Map(out.map((b) => [b.name, b]));
  for (const m of group.members) {
    const own = declared.get(m.name);
    if (own) {
      const at =
        own.origin.file === origin.file
          ? own.origin.locator.at([...own.origin.path, 'name'])
          : own.origin.locator.at(own.origin.path, 'key');
      diagnostics.push({
        code: 'GROUP_MEMBER_SHADOWED',
        severity: 'warning',
        message: `backend "${m.name}" is declared here and is also a member of group "${group.name}" (${m.from} at ${m.transport} ${m.url} in ${describeSource(group.source)}); this declaration is used`,
        file: own.origin.file,
        line: at.line,
        column: at.column,
        hint: "rename one of them to keep both, or remove this entry to use the group's member",
      });
      continue;
    }
    const r = { name: m.name, transport: m.transport, url: m.url, required: true, origin };
    out.push({ ...r, identity: identityOf(r) });
  }
}

function fromConfig(b: BackendConfig, origin: ResolvedBackend['origin']): ResolvedBackend {
  const base = {
    name: b.name,
    transport: b.transport,
    required: b.required,
    sessionAffinity: b.sessionAffinity,
    origin,
  };
  if (b.transport === 'stdio') {
    const r = { ...base, command: b.command, args: b.args, env: b.env, cwd: b.cwd };
    return { ...r, identity: identityOf(r) };
  }
  const r = { ...base, url: b.url, headers: b.headers };
  return { ...r, identity: identityOf(r) };
}

/** A server entry as client config files write it. */
interface ClientServerEntry {
  type?: string;
  transport?: string;
  command?: string;
  args?: unknown;
  env?: unknown;
  cwd?: string;
  url?: string;
  headers?: unknown;
  disabled?: boolean;
}

/** Strips // and /* comments and trailing commas (VS Code writes JSONC), leaving strings intact. */
export function stripJsonComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const chunk = text.slice(i, end < 0 ? text.length : end + 2);
      out += chunk.replace(/[^\n]/g, ' ');
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, ' $1');
}

/** Reads the servers of a client config file (mcpServers or servers) as backends. */
export function importClientConfig(
  file: string,
  text: string,
): { value: ResolvedBackend[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(stripJsonComments(text), { lineCounter, prettyErrors: false });
  const locator = createLocator(doc, lineCounter);
  const fail = (message: string, path: ConfigPath, hint?: string) => {
    const s = locator.at(path);
    diagnostics.push({
      code: 'GROUP_IMPORT',
      severity: 'error',
      message,
      file,
      line: s.line,
      column: s.column,
      ...(hint ? { hint } : {}),
    });
  };
  if (doc.errors.length || !isMap(doc.contents)) {
    const pos = doc.errors[0] ? lineCounter.linePos(doc.errors[0].pos[0]) : { line: 1, col: 1 };
    diagnostics.push({
      code: 'GROUP_IMPORT',
      severity: 'error',
      message: `${file} is not a JSON client config: ${doc.errors[0]?.message.split('\n')[0] ?? 'not an object'}`,
      file,
      line: pos.line,
      column: pos.col,
    });
    return { value: [], diagnostics };
  }
  const data = doc.toJS() as Record<string, unknown>;
  const key = data.mcpServers !== undefined ? 'mcpServers' : data.servers !== undefined ? 'servers' : undefined;
  if (!key || typeof data[key] !== 'object' || data[key] === null) {
    fail(`${file} has no "mcpServers" (Claude Desktop, Cursor) or "servers" (VS Code) object`, []);
    return { value: [], diagnostics };
  }
  const out: ResolvedBackend[] = [];
  for (const [name, raw] of Object.entries(data[key] as Record<string, ClientServerEntry>)) {
    const path = [key, name];
    if (!raw || typeof raw !== 'object') {
      fail(`server "${name}" must be an object`, path);
      continue;
    }
    if (raw.disabled === true) continue;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
      fail(
        `server name "${name}" is not a valid backend name`,
        path,
        `rename it to "${sanitizeName(name)}" (letters, digits, ".", "_", "-")`,
      );
      continue;
    }
    const kind = (raw.type ?? raw.transport ?? (raw.url ? 'http' : 'stdio')).toLowerCase();
    const origin = { file, path, locator };
    const env = stringRecord(raw.env);
    if (kind === 'stdio') {
      if (typeof raw.command !== 'string' || !raw.command) {
        fail(`server "${name}" has no "command"`, path);
        continue;
      }
      const args = Array.isArray(raw.args) ? raw.args.map(String) : [];
      const r = {
        name,
        transport: 'stdio' as const,
        command: raw.command,
        args,
        env,
        cwd: raw.cwd,
        required: true,
        origin,
      };
      out.push({ ...r, identity: identityOf(r) });
    } else if (kind === 'http' || kind === 'streamable-http' || kind === 'streamablehttp' || kind === 'sse') {
      if (typeof raw.url !== 'string') {
        fail(`server "${name}" has no "url"`, path);
        continue;
      }
      const transport = kind === 'sse' ? ('sse' as const) : ('streamable-http' as const);
      const r = { name, transport, url: raw.url, headers: stringRecord(raw.headers), required: true, origin };
      out.push({ ...r, identity: identityOf(r) });
    } else {
      fail(`server "${name}" has unknown type "${kind}"`, [...path, 'type'], 'use "stdio", "http" or "sse"');
    }
  }
  return { value: out, diagnostics };
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object') return undefined;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** Turns an arbitrary server name into a valid backend name: "@acme/Git Hub" → "acme-Git-Hub". */
export function sanitizeName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return s || 'server';
}
