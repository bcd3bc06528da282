import type { ReferenceContext } from '../check-references.ts';
import { checkReference, referenceFinding, type ReferenceUse } from '../check-references.ts';
import { Code } from '../codes.ts';
import { forEachTemplate, scanTemplate, spansOf } from '../expressions.ts';
import type { ExpressionRef, ScanResult } from '../expressions.ts';
import type { Finding } from '../finding.ts';
import { pointerOf } from '../finding.ts';
import { isRecord, taskContext, type AnalysisState, type Rec, type TaskModel } from './state.ts';

/** The task fields whose strings may hold `${…}` expressions. */
export const templateFields = ['run', 'with', 'env', 'command', 'args', 'image'] as const;

/** What one reference uses, and (called only when wanted) where it is written. */
export type UseVisitor = (use: ReferenceUse, place: () => Pick<Finding, 'pointer' | 'span'>) => void;

/**
 * Expressions: every `${…}` in `defaults.env` (params, secrets, run and workload only) and in
 * each task's template fields must name something that exists from there. What a task's
 * expressions use becomes its secrets and its implicit dependencies.
 */
export function checkExpressions(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  const defaults = isRecord(state.spec.defaults) ? state.spec.defaults : {};
  if (holdsTemplate(defaults.env))
    checkTemplates(
      defaults.env,
      ['spec', 'defaults', 'env'],
      {
        params: state.paramNames,
        tasks: state.taskInfo,
        matrixKeys: undefined,
        selfId: undefined,
        allowSecrets: true,
      },
      findings,
    );
  // One visitor for the whole pass (not a closure per task): it adds to the task being checked.
  let current: TaskModel | undefined;
  const record: UseVisitor = (use) => {
    const model = current as TaskModel;
    if (use.secret !== undefined) (model.secrets ??= new Set()).add(use.secret);
    if (use.dependsOn !== undefined) model.deps.push(state.byId.get(use.dependsOn) as number);
  };
  for (const model of state.models) {
    const raw = model.task as unknown as Rec;
    const runScan = typeof raw.run === 'string' ? scanTemplate(raw.run) : undefined;
    if (runScan) model.runSpans = spansOf(runScan.refs);
    current = model;
    let context: ReferenceContext | undefined;
    for (const field of templateFields) {
      const value = raw[field];
      if (value === undefined || !holdsTemplate(value)) continue;
      context ??= taskContext(state, model, true);
      checkTemplates(
        value,
        ['spec', 'tasks', model.index, field],
        context,
        findings,
        record,
        field === 'run' ? runScan : undefined,
      );
    }
  }
  return findings;
}

/**
 * Checks every expression in the strings of `value`: problems go to `findings`, what each valid
 * reference uses to `onUse` (with its place, computed only when asked for).
 */
export function checkTemplates(
  value: unknown,
  base: (string | number)[],
  context: ReferenceContext,
  findings: Finding[],
  onUse?: UseVisitor,
  scanned?: ScanResult,
): void {
  if (typeof value === 'string') checkString(value, base, noPath, context, findings, onUse, scanned);
  else
    forEachTemplate(value, (text, path) => checkString(text, base, path, context, findings, onUse, scanned));
}

const noPath = (): (string | number)[] => [];

function checkString(
  text: string,
  base: (string | number)[],
  path: () => (string | number)[],
  context: ReferenceContext,
  findings: Finding[],
  onUse: UseVisitor | undefined,
  scanned: ScanResult | undefined,
): void {
  const { refs, malformed } = scanned ?? scanTemplate(text);
  if (refs.length === 0 && malformed.length === 0) return;
  // Made for the first finding or use that wants a place: a clean string allocates nothing here.
  let places: StringPlaces | undefined;
  for (const bad of malformed) {
    places ??= new StringPlaces(base, path, refs);
    findings.push({
      code: Code.badExpression,
      severity: 'error',
      message: `malformed expression ${bad.text}`,
      hint: 'an expression is a dotted path such as ${params.region}; write $${ for a literal ${',
      pointer: places.pointer(),
      span: { text: bad.text, occurrence: places.occurrenceOf(bad.text) },
    });
  }
  for (let k = 0; k < refs.length; k++) {
    const result = checkReference((refs[k] as ExpressionRef).path, context);
    if ('problem' in result) {
      places ??= new StringPlaces(base, path, refs);
      findings.push(referenceFinding(result, places.ref(k)));
    } else if (onUse && (result.dependsOn !== undefined || result.secret !== undefined)) {
      const at = (places ??= new StringPlaces(base, path, refs));
      onUse(result, () => at.ref(k));
    }
  }
}

/**
 * Where the findings of one string go: its pointer, and for an expression which occurrence of
 * its text it is (malformed expressions are counted first, then every reference at once).
 */
class StringPlaces {
  private cachedPointer: string | undefined;
  private readonly seen = new Map<string, number>();
  private occurrences: number[] | undefined;
  private readonly base: (string | number)[];
  private readonly path: () => (string | number)[];
  private readonly refs: readonly ExpressionRef[];
  constructor(base: (string | number)[], path: () => (string | number)[], refs: readonly ExpressionRef[]) {
    this.base = base;
    this.path = path;
    this.refs = refs;
  }

  pointer(): string {
    return (this.cachedPointer ??= pointerOf(...this.base, ...this.path()));
  }

  occurrenceOf(text: string): number {
    const n = this.seen.get(text) ?? 0;
    this.seen.set(text, n + 1);
    return n;
  }

  /** The place of the k-th reference. */
  ref(k: number): Pick<Finding, 'pointer' | 'span'> {
    this.occurrences ??= this.refs.map((r) => this.occurrenceOf(r.text));
    return {
      pointer: this.pointer(),
      span: { text: (this.refs[k] as ExpressionRef).text, occurrence: this.occurrences[k] as number },
    };
  }
}

/** Whether any string in `value` holds `${` (what checkTemplates looks at), without allocating. */
function holdsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${');
  if (Array.isArray(value)) {
    for (const item of value) if (holdsTemplate(item)) return true;
    return false;
  }
  if (value !== null && typeof value === 'object')
    for (const key in value) if (holdsTemplate((value as Rec)[key])) return true;
  return false;
}
