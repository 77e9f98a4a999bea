#!/usr/bin/env node
// The `adci` command (npx adci …): runs the bundled CLI, on the Node version its engines need.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`adci needs Node.js 24 (>= 22.19 at least); this is ${process.version}.\n`);
  process.exit(2);
}
await import('../dist/cli/index.js');
