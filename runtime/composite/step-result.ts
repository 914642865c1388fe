/**
 * What a backend's CallToolResult becomes inside a workflow, and what the workflow returns to its
 * caller. The content array is mapped as ToolHive maps it (pkg/vmcp/conversion ContentArrayToMap):
 * the first text is `text`, later ones `text_1`, `text_2`…; images are `image_0`, `image_1`… (their
 * base64 data); embedded resources are `resource`, `resource_1`… (their text, else their blob);
 * audio and resource links are left out. Text is not parsed as JSON (templates use `fromJson`).
 */

/** A content array as template data: `[{type:'text',text:'a'},{type:'text',text:'b'}]` → `{text:'a', text_1:'b'}`. */
export function contentToMap(content: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(content)) return out;
  let texts = 0;
  let images = 0;
  let resources = 0;
  for (const item of content) {
    if (item === null || typeof item !== 'object') continue;
    if (item.type === 'text') {
      out[texts === 0 ? 'text' : `text_${texts}`] = item.text;
      texts++;
    } else if (item.type === 'image') {
      out[`image_${images}`] = item.data;
      images++;
    } else if (item.type === 'resource') {
      const r = item.resource;
      out[resources === 0 ? 'resource' : `resource_${resources}`] = r?.text ? r.text : r?.blob;
      resources++;
    }
  }
  return out;
}

/** Why a result with `isError: true` failed: its first text, else a message field, as ToolHive reads it. */
export function toolErrorText(result: Record<string, unknown>): string {
  if (Array.isArray(result.content))
    for (const item of result.content) if (item?.type === 'text' && item.text) return String(item.text);
  const sc = result.structuredContent as Record<string, unknown> | undefined;
  for (const key of ['error', 'message', 'text'])
    if (typeof sc?.[key] === 'string' && sc[key] !== '') return sc[key] as string;
  return 'tool execution error';
}

/** True for a JSON object (not an array, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The CallToolResult of a finished workflow. MCP requires `structuredContent` to be an object, so an
 * output that is not one (a string, a list, nothing) is returned as `{ result: <output> }`.
 */
export function workflowResult(output: unknown): Record<string, unknown> {
  const structured = isPlainObject(output) ? output : { result: output ?? null };
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** The CallToolResult of a failed workflow: one text naming the workflow, the step and the cause. */
export function failureResult(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true };
}
