#!/usr/bin/env node
// The `troupe` command (package.json `bin`): runs the CLI's TypeScript source through SWC, like `npm run troupe`.
/* eslint-disable @typescript-eslint/no-require-imports */
const path = require('node:path');
require(path.join(__dirname, '..', '..', '..', 'tools', 'register.cjs'));
require(path.join(__dirname, '..', 'src', 'main.ts'));
