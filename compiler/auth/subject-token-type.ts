/**
 * `tokenExchange.subjectTokenType` as ToolHive reads it: the short forms `access_token`, `id_token`
 * and `jwt` stand for their RFC 8693 URNs (ToolHive's tokenexchange.NormalizeTokenType). vmcp also
 * passes any other `urn:` value through, for token services that take more types than ToolHive's three.
 */

/** ToolHive's short forms and the RFC 8693 URNs they stand for. */
export const SUBJECT_TOKEN_TYPES: Readonly<Record<string, string>> = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
};

/** The URN to send as `subject_token_type`: `id_token` → `urn:ietf:params:oauth:token-type:id_token`; undefined when neither a short form nor a URN. */
export function normalizeSubjectTokenType(value: string): string | undefined {
  if (Object.hasOwn(SUBJECT_TOKEN_TYPES, value)) return SUBJECT_TOKEN_TYPES[value];
  return value.startsWith('urn:') ? value : undefined;
}
