/**
 * The expression seam: the engine renders `${...}` templates and evaluates `when` conditions at
 * dispatch time with the compiler's functions (so there is one expression language).
 */
export type ExpressionScope = Record<string, unknown>;

export interface Expressions {
  renderTemplate(value: unknown, scope: ExpressionScope): unknown;
  evaluateCondition(cel: string, scope: ExpressionScope): boolean;
}
