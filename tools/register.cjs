// Runs TypeScript sources directly with SWC (decorator metadata and tsconfig `paths` included),
// so `npm run demo` and `npm run start:*` need no build step. Production images use `npm run build`.
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || require('node:path').join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
