#!/usr/bin/env node
/**
 * Writes the Datadog dashboard and monitors (observability/*.json) from lib/datadog-json.ts:
 * `npm run observability`, then commit them. The tests fail when the committed files differ.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { datadogFiles } from '../lib/datadog-json';

const infra = path.resolve(__dirname, '..');
for (const [file, content] of Object.entries(datadogFiles())) {
  writeFileSync(path.join(infra, file), content);
  process.stdout.write(`wrote infra/${file}\n`);
}
