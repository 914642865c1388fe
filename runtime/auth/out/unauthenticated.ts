/** Outgoing auth strategy `unauthenticated`: adds no headers. */
import type { OutgoingAuthFactory } from '../../plugins.ts';

/** Sends requests without credentials. */
export const unauthenticated: OutgoingAuthFactory = () => ({ headers: {} });
