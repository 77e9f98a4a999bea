// A shard's plan: which shard (`i/n`) this is and its part of the load phase. Kept apart from
// shards.ts (results, histograms, merge) so reading settings loads no histogram library.
import { InputError } from '@adci/common/basics';
import type { LoadSpec } from './types.ts';

export interface ShardId {
  /** 1-based. */
  index: number;
  count: number;
}

/** `2/4` -> { index: 2, count: 4 }; `name` is the setting in errors. */
export function parseShard(text: string, name: string): ShardId {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new InputError(name, `'${text}' is not a shard (write i/n, e.g. 2/4 for the second of four)`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count) {
    throw new InputError(name, `'${text}': the shard number must be between 1 and the number of shards`);
  }
  return { index, count };
}

/** Shard `index`'s part of `total` whole units: the remainder goes one each to the first shards. */
export function shareOf(total: number, shard: ShardId): number {
  return Math.floor(total / shard.count) + (shard.index <= total % shard.count ? 1 : 0);
}

/**
 * The load phase one shard runs. The open model keeps the whole rate and the shard sends every
 * n-th arrival of the whole schedule from its own offset (load.ts), so the shards together send
 * exactly the arrivals one runner would; the in-flight cap is shared out. The closed model shares
 * out the connections. Thresholds are judged by merge only: a shard sees only its part.
 */
export function shardLoad(load: LoadSpec, shard: ShardId, names: { shard: string; connections: string }): LoadSpec {
  const split = (total: number, what: string, name: string): number => {
    if (total < shard.count) {
      throw new InputError(name, `${total} ${what} cannot be shared by ${shard.count} shards (each needs at least 1)`);
    }
    return shareOf(total, shard);
  };
  const model: LoadSpec['model'] =
    load.model.kind === 'open'
      ? { ...load.model, maxInFlight: split(load.model.maxInFlight, 'in-flight requests (max-in-flight)', names.shard) }
      : { kind: 'closed', connections: split(load.model.connections, 'connections', names.connections) };
  return { ...load, model, thresholds: [], abortOnFail: false, shard };
}
