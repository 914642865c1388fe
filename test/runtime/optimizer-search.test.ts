/**
 * The optimizer's search rules (runtime/optimizer/search.ts), shared by vmcp compile and the
 * runtime: identifiers split into words, stemming, the synonym folds, and a ranking that survives
 * serialization (the bundle carries the index as data).
 */
import { describe, expect, it } from 'vitest';
import { buildIndex, documentOf, loadIndex, processTerm, rank, tokenize } from '../../runtime/optimizer/search.ts';

describe('search rules', () => {
  it('splits identifiers at _, -, ., / and camelCase', () => {
    expect(tokenize('create_pull_request')).toEqual(['create', 'pull', 'request']);
    expect(tokenize('getUserById')).toEqual(['get', 'user', 'by', 'id']);
    expect(tokenize('HTTPServer.list-items/v2')).toEqual(['http', 'server', 'list', 'items', 'v2']);
  });

  it('drops stop words, stems, and folds synonyms to one term', () => {
    expect(processTerm('the')).toBeNull();
    expect(processTerm('issues')).toBe(processTerm('issue'));
    expect(processTerm('remove')).toBe(processTerm('delete'));
    expect(processTerm('ticket')).toBe(processTerm('issue'));
    expect(processTerm('folders')).toBe(processTerm('directory'));
    expect(processTerm('commits')).not.toBe(processTerm('issue'));
  });

  it('a document reads the name, title, description and parameter names and descriptions', () => {
    const d = documentOf({
      name: 'gh_create_issue',
      annotations: { title: 'New issue' },
      description: 'Create an issue',
      inputSchema: {
        type: 'object',
        properties: {
          labels: { type: 'array', items: { type: 'object', properties: { color: { description: 'Hex' } } } },
        },
      },
    });
    expect(d).toMatchObject({ id: 'gh_create_issue', title: 'New issue', description: 'Create an issue' });
    expect(d.params).toContain('labels');
    expect(d.params).toContain('color Hex');
  });

  it('ranks the same after a round trip through JSON, and keywords pull their tool up', () => {
    const tools = [
      { name: 'fs_delete_file', description: 'Delete a file from disk' },
      { name: 'gh_close_issue', description: 'Close an issue in a repository' },
      { name: 'slack_post_message', description: 'Post a message to a channel' },
    ];
    const built = buildIndex(tools);
    const loaded = loadIndex(JSON.stringify(built));
    expect(rank(loaded, 'remove the old file')).toEqual(rank(loadIndex(built), 'remove the old file'));
    expect(rank(loaded, 'remove the old file')[0].id).toBe('fs_delete_file');
    expect(rank(loaded, 'tell the team', ['channel'])[0].id).toBe('slack_post_message');
    expect(rank(loaded, 'zzzz qqqq')).toEqual([]);
    // Prefix matching for longer terms; a limit keeps the best only.
    expect(rank(loaded, 'channe')[0].id).toBe('slack_post_message');
    expect(rank(loaded, 'file issue message', [], 2)).toHaveLength(2);
    // Ranked among what the caller may see: the best visible tool, however low it ranks overall.
    const onlySlack = (name: string) => name === 'slack_post_message';
    expect(rank(loaded, 'remove the old file', [], 1, onlySlack)).toEqual([]);
    expect(rank(loaded, 'post the old file', [], 1, onlySlack).map((r) => r.id)).toEqual(['slack_post_message']);
  });
});
