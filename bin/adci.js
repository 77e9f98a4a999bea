#!/usr/bin/env node
// The `adci` command (npx adci …): runs the bundled CLI, on the Node versions its engines need
// (package.json `engines`; GitLab's and Jenkins' node:22 images qualify, node:20 does not).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`adci needs Node.js 22.19 or newer (24 recommended); this is Node.js ${process.version}.\n`);
  process.exit(2);
}
// The bundle is several megabytes (the Kubernetes client is most of it): Node keeps its compiled code
// on disk, so a CI job's second adci command starts in a fraction of the time. Best effort.
const { enableCompileCache } = await import('node:module');
try {
  enableCompileCache?.();
} catch {
  // an unwritable cache directory only costs start-up time
}
await import('../dist/cli/index.js');
