// Entry of the quality-gate action's bundle.
import { run } from './main.ts';

await run();
