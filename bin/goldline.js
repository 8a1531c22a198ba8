#!/usr/bin/env node
// The `goldline` command (package.json "bin"): runs the TypeScript entry
// infra/local/cli.ts in this process through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../infra/local/cli.ts');
await main(process.argv.slice(2));
