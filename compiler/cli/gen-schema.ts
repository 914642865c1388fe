// Regenerates schemas/vmcp.schema.json; `npm run schema`. A test fails when the checked-in file is stale.
import { writeFileSync } from 'node:fs';
import { renderJsonSchema } from '../schema-json.ts';

writeFileSync(new URL('../../schemas/vmcp.schema.json', import.meta.url), renderJsonSchema());
