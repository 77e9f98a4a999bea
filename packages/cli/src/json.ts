// The JSON the command prints (`--json`) and writes (`--report-file`): the engine's result, with the
// adci version first, so a CI log or an archived report names the release that produced it.
import { ADCI_VERSION } from '@adci/common/basics';

export function versioned<T extends object>(result: T): { adciVersion: string } & T {
  return { adciVersion: ADCI_VERSION, ...result };
}
