// Entry of the blue-green-deploy bundle, for both `main:` and `post:` (actions/checkout's
// pattern): the main step marks the state, so the same file knows it runs as the post step.
import * as core from '@actions/core';
import { enableCompileCache } from 'node:module';
import { post, run } from './main.ts';

// The Kubernetes client, loaded later, is megabytes of code: keep its compiled form on disk for the
// post: step and the job's later deploy steps. Best effort; a failure only costs start-up time.
try {
  enableCompileCache();
} catch {
  // no writable cache directory
}

if (core.getState('isPost') === 'true') {
  await post();
} else {
  core.saveState('isPost', 'true');
  await run();
}
