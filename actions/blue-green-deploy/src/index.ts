// Entry of the blue-green-deploy action's bundle.
import { run } from './main.ts';

await run();
