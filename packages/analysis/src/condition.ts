// The success condition of a metric: `result < 0.01`, `result >= 100 and result < 200`. A tiny
// language on purpose (no eval): comparisons of `result` with a number, joined by and/or.
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Comparison {
  operator: Operator;
  value: number;
}

export interface Condition {
  text: string;
  join: 'and' | 'or';
  comparisons: Comparison[];
  /** The number the chart draws as the threshold line: the first comparison's. */
  threshold: number;
  /** Which way is worse: `up` when larger values fail (`result < x`), `down` when smaller ones do. */
  worse: 'up' | 'down' | 'either';
}

const CLAUSE = /^result\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)$/i;

/** Parses a condition; throws an Error whose message says what is wrong (the caller adds file:line). */
export function parseCondition(text: string): Condition {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('is empty (write e.g. result < 0.01)');
  const parts = trimmed.split(/\s+(and|or|&&|\|\|)\s+/i);
  const clauses: string[] = [];
  const joins = new Set<'and' | 'or'>();
  parts.forEach((part, i) => {
    if (i % 2 === 1) joins.add(/^(and|&&)$/i.test(part) ? 'and' : 'or');
    else clauses.push(part.trim());
  });
  if (joins.size > 1) throw new Error(`'${trimmed}' mixes 'and' and 'or'; write one of them (no parentheses)`);
  const comparisons = clauses.map((clause) => {
    const match = CLAUSE.exec(clause);
    if (!match) {
      throw new Error(`'${clause}' is not a comparison of result with a number (write e.g. result < 0.01)`);
    }
    const value = Number(match[2]);
    if (!Number.isFinite(value)) throw new Error(`'${match[2]}' is not a finite number`);
    return { operator: match[1] as Operator, value };
  });
  const first = comparisons[0] as Comparison;
  const worse =
    first.operator === '<' || first.operator === '<='
      ? 'up'
      : first.operator === '>' || first.operator === '>='
        ? 'down'
        : 'either';
  return { text: trimmed, join: joins.has('or') ? 'or' : 'and', comparisons, threshold: first.value, worse };
}

function compare(value: number, { operator, value: limit }: Comparison): boolean {
  switch (operator) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

export function holds(condition: Condition, value: number): boolean {
  return condition.join === 'and'
    ? condition.comparisons.every((c) => compare(value, c))
    : condition.comparisons.some((c) => compare(value, c));
}
