import type { CorpusEmail } from '@troupe/email-corpus';
import type { TrackedAgentRun, TrackedWorkflow } from './tracker';

/** Spam-vs-ham quality on the held-out split: spam is the positive class. */
export interface ClassificationQuality {
  evaluated: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  accuracy: number;
}

/** The figures `npm run demo` prints. Times in ms; throughput in workflows per second. */
export interface DemoReport {
  workflows: number;
  byState: Record<string, number>;
  unsettled: number;
  heldOut: ClassificationQuality;
  /** Workflows that were in the training split (not used for quality figures). */
  trainingSplitWorkflows: number;
  timeToSettleMs: { p50: number; p95: number; max: number };
  elapsedMs: number;
  throughputPerSecond: number;
  /** The workflow that took longest to settle, and its trace id (null when tracing was off). */
  slowest: { workflowId: string; timeToSettleMs: number; traceId: string | null } | null;
  agents: AgentUsageReport;
  /** Workflows whose agent task failed for good and went to a human gate instead of failing, by agent (tag `agentFailed`, email-triage@4). */
  handedToHumanByAgent: Record<string, number>;
}

/** Tokens and cost of the agent runs (ReAct loops), per workflow, and which model or fallback served the steps. */
export interface AgentUsageReport {
  runs: number;
  workflowsWithRuns: number;
  tokens: { total: number; perWorkflowP50: number; perWorkflowMax: number };
  costUsd: { total: number; perWorkflowP50: number; perWorkflowMax: number };
  /** Model calls served, by `provider/model` or `fallback/<name>`. */
  stepsServedBy: Record<string, number>;
}

/** Sums the agent runs per workflow. */
export function agentUsage(runs: Iterable<TrackedAgentRun>): AgentUsageReport {
  const perWorkflow = new Map<string, { tokens: number; costUsd: number }>();
  const stepsServedBy: Record<string, number> = {};
  let count = 0;
  for (const run of runs) {
    count += 1;
    const sum = perWorkflow.get(run.parentWorkflowId) ?? { tokens: 0, costUsd: 0 };
    perWorkflow.set(run.parentWorkflowId, { tokens: sum.tokens + run.tokens, costUsd: sum.costUsd + run.costUsd });
    for (const model of run.servedBy) stepsServedBy[model] = (stepsServedBy[model] ?? 0) + 1;
  }
  const tokens = [...perWorkflow.values()].map((sum) => sum.tokens);
  const costs = [...perWorkflow.values()].map((sum) => sum.costUsd);
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    runs: count,
    workflowsWithRuns: perWorkflow.size,
    tokens: { total: total(tokens), perWorkflowP50: quantile(tokens, 0.5), perWorkflowMax: quantile(tokens, 1) },
    costUsd: { total: total(costs), perWorkflowP50: quantile(costs, 0.5), perWorkflowMax: quantile(costs, 1) },
    stepsServedBy,
  };
}

/** The q-quantile (0–1) of `values` by the nearest-rank method. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** Precision, recall and accuracy with spam as positive (0 where a ratio is undefined). */
export function classificationQuality(pairs: Array<{ truth: 'spam' | 'ham'; predicted: 'spam' | 'ham' }>): ClassificationQuality {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (const { truth, predicted } of pairs) {
    if (predicted === 'spam' && truth === 'spam') tp += 1;
    else if (predicted === 'spam') fp += 1;
    else if (truth === 'ham') tn += 1;
    else fn += 1;
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    evaluated: pairs.length,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    accuracy: ratio(tp + tn, pairs.length),
  };
}

/** How many workflows a failed agent handed to a human, by agent: the `agentFailed` tag of each one's latest change. */
export function handedToHumanByAgent(tracked: Iterable<Pick<TrackedWorkflow, 'last'>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const workflow of tracked) {
    const agent = workflow.last?.tags.agentFailed;
    if (agent !== undefined) counts[agent] = (counts[agent] ?? 0) + 1;
  }
  return counts;
}

/** The state a workflow ended in (or waits in), as the report counts it. */
export function stateName(workflow: TrackedWorkflow): string {
  if (workflow.last === null) return '(no transition seen)';
  const paths = workflow.last.statePaths;
  return paths[paths.length - 1] ?? JSON.stringify(workflow.last.stateValue);
}

/** Builds the report from what the tracker saw and the corpus labels (held-out split only for quality). */
export function buildReport(
  tracked: TrackedWorkflow[],
  corpusOf: (workflowId: string) => { email: CorpusEmail; split: 'train' | 'test' },
  startedAtMs: number,
  finishedAtMs: number,
  agentRuns: Iterable<TrackedAgentRun> = [],
): DemoReport {
  const byState: Record<string, number> = {};
  const pairs: Array<{ truth: 'spam' | 'ham'; predicted: 'spam' | 'ham' }> = [];
  const settleTimes: number[] = [];
  let trainingSplitWorkflows = 0;
  let unsettled = 0;
  let slowest: DemoReport['slowest'] = null;
  for (const workflow of tracked) {
    const state = stateName(workflow);
    byState[state] = (byState[state] ?? 0) + 1;
    if (workflow.settledAtMs === null) unsettled += 1;
    else if (workflow.publishedAtMs !== null) {
      const timeToSettleMs = workflow.settledAtMs - workflow.publishedAtMs;
      settleTimes.push(timeToSettleMs);
      if (slowest === null || timeToSettleMs > slowest.timeToSettleMs) slowest = { workflowId: workflow.workflowId, timeToSettleMs, traceId: workflow.traceId };
    }
    const { email, split } = corpusOf(workflow.workflowId);
    if (split === 'train') {
      trainingSplitWorkflows += 1;
      continue;
    }
    const predicted = workflow.last?.tags.classifiedAs;
    if (predicted === 'spam' || predicted === 'ham') pairs.push({ truth: email.label, predicted });
  }
  const elapsedMs = finishedAtMs - startedAtMs;
  return {
    workflows: tracked.length,
    byState,
    unsettled,
    heldOut: classificationQuality(pairs),
    trainingSplitWorkflows,
    timeToSettleMs: { p50: quantile(settleTimes, 0.5), p95: quantile(settleTimes, 0.95), max: quantile(settleTimes, 1) },
    elapsedMs,
    throughputPerSecond: elapsedMs > 0 ? (settleTimes.length / elapsedMs) * 1_000 : 0,
    slowest,
    agents: agentUsage(agentRuns),
    handedToHumanByAgent: handedToHumanByAgent(tracked),
  };
}
