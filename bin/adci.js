#!/usr/bin/env node
// The `adci` command (npx adci …): runs the bundled CLI.
import '../dist/cli/index.js';
