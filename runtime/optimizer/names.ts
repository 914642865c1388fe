/** The optimizer's two tools. Apart from optimizer.ts so the router can name them without bundling the search index code. */
export const FIND_TOOL = 'find_tool';
export const CALL_TOOL = 'call_tool';
