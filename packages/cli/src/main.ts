// Entry of the `adci` bundle.
import { main } from './index.ts';

await main();
