// Entry of the notify action's bundle.
import { run } from './main.ts';

await run();
