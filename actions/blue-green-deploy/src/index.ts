// Entry of the blue-green-deploy bundle, for both `main:` and `post:` (actions/checkout's
// pattern): the main step marks the state, so the same file knows it runs as the post step.
import * as core from '@actions/core';
import { post, run } from './main.ts';

if (core.getState('isPost') === 'true') {
  await post();
} else {
  core.saveState('isPost', 'true');
  await run();
}
