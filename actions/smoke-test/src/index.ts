// Entry of the smoke-test action's bundle.
import { run } from './main.ts';

await run();
