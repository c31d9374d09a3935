import { Logger } from '@nestjs/common';
import { BUCKETS, type ModelUsage, type RunUsage, type WorkflowBudgetLimits } from '@troupe/contracts';
import type { JetStreamClient, KV } from 'nats';
import type { ModelCallOptions } from './model-chain';

/** Tokens, cost (USD) and model calls a workflow's agent runs and one-step calls have spent, and which were counted. */
export interface WorkflowSpend {
  tokens: number;
  costUsd: number;
  /** Model calls (a run's iterations, one per one-step call a model answered); 0 in records written before it was counted. */
  modelCalls: number;
  runIds: string[];
}

/**
 * What each workflow's agent runs have spent, for the per-workflow budget: a run starts with the spend
 * so far, and each finished run adds its usage once (by run id, so a redelivered result does not count twice).
 */
export interface WorkflowUsageLedger {
  spent(workflowId: string): Promise<WorkflowSpend>;
  record(workflowId: string, runId: string, usage: RunUsage): Promise<void>;
}

const EMPTY: WorkflowSpend = { tokens: 0, costUsd: 0, modelCalls: 0, runIds: [] };

/** A stored spend, with the fields a record written by an older version lacks. */
function storedSpend(value: unknown): WorkflowSpend {
  return { ...EMPTY, ...(value as Partial<WorkflowSpend>) };
}
/** Run ids remembered per workflow for idempotency. */
const RUN_IDS_WINDOW = 256;

function added(spend: WorkflowSpend, runId: string, usage: RunUsage): WorkflowSpend | null {
  if (spend.runIds.includes(runId)) return null;
  return {
    tokens: spend.tokens + usage.inputTokens + usage.outputTokens,
    costUsd: spend.costUsd + usage.costUsd,
    modelCalls: spend.modelCalls + usage.iterations,
    runIds: [...spend.runIds, runId].slice(-RUN_IDS_WINDOW),
  };
}

/** A {@link WorkflowUsageLedger} in memory (tests). */
export class InMemoryWorkflowUsage implements WorkflowUsageLedger {
  readonly spends = new Map<string, WorkflowSpend>();
  async spent(workflowId: string) {
    return this.spends.get(workflowId) ?? EMPTY;
  }
  async record(workflowId: string, runId: string, usage: RunUsage) {
    const next = added(await this.spent(workflowId), runId, usage);
    if (next !== null) this.spends.set(workflowId, next);
  }
}

/** A {@link WorkflowUsageLedger} in the JetStream KV bucket `troupe_workflow_usage`, updated by compare-and-set. */
export class KvWorkflowUsage implements WorkflowUsageLedger {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating when missing) the bucket. */
  static async open(js: JetStreamClient, options: { replicas?: number } = {}): Promise<KvWorkflowUsage> {
    return new KvWorkflowUsage(await js.views.kv(BUCKETS.workflowUsage, { history: 1, replicas: options.replicas ?? 1 }));
  }

  async spent(workflowId: string): Promise<WorkflowSpend> {
    const entry = await this.kv.get(workflowId);
    return entry === null || entry.operation !== 'PUT' ? EMPTY : storedSpend(entry.json());
  }

  /** @throws Error from JetStream after 10 lost compare-and-set races. */
  async record(workflowId: string, runId: string, usage: RunUsage): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const entry = await this.kv.get(workflowId);
      const current = entry === null || entry.operation !== 'PUT' ? EMPTY : storedSpend(entry.json());
      const next = added(current, runId, usage);
      if (next === null) return;
      try {
        if (entry === null) await this.kv.create(workflowId, JSON.stringify(next));
        else await this.kv.update(workflowId, JSON.stringify(next), entry.revision);
        return;
      } catch (error) {
        if (attempt === 9) throw error;
      }
    }
  }
}

/**
 * Counts one model call made for a workflow outside its agent runs (the supervisor's routing decision,
 * the model classifier) in `workflowId`'s spend, like a run of one iteration (one model call), once per
 * `callId` (the task's effect id, so a redelivered task is not counted twice). A call served by the
 * non-LLM fallback (`usage.model` `fallback/…`, no tokens, no cost) is not recorded; a model's answer
 * is, even when the model reported no tokens.
 *
 * @throws Error from the ledger (JetStream) when the spend cannot be written.
 */
export async function recordModelCallUsage(ledger: WorkflowUsageLedger, workflowId: string, callId: string, usage: ModelUsage): Promise<void> {
  if (usage.model.startsWith('fallback/') && usage.inputTokens + usage.outputTokens === 0 && usage.costUsd === 0) return;
  await ledger.record(workflowId, callId, {
    iterations: 1,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    costUsd: usage.costUsd,
    servedBy: [usage.model],
  });
}

/**
 * The per-workflow limits: tokens (input + output) and USD (`TROUPE_WORKFLOW_MAX_TOKENS`,
 * `TROUPE_WORKFLOW_MAX_COST_USD`), and model calls when the workflow declares a limit on them.
 */
export interface WorkflowLimits {
  maxTokens: number;
  maxCostUsd: number;
  /** Model calls; no limit when absent (the environment sets none). */
  maxModelCalls?: number;
}

/**
 * The limits a call is held to: of the environment's `limits` and the workflow's `declared` budget (an
 * agent task's `limits.budget`), the stricter (smaller) of each; `limits` alone when nothing is declared.
 */
export function stricterLimits(limits: WorkflowLimits, declared: WorkflowBudgetLimits | undefined): WorkflowLimits {
  if (declared === undefined) return limits;
  const smaller = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const maxModelCalls = smaller(limits.maxModelCalls, declared.maxModelCalls);
  return {
    maxTokens: smaller(limits.maxTokens, declared.maxTokens) ?? limits.maxTokens,
    maxCostUsd: smaller(limits.maxCostUsd, declared.maxCostUsd) ?? limits.maxCostUsd,
    ...(maxModelCalls === undefined ? {} : { maxModelCalls }),
  };
}

/** Why a workflow that has spent `spend` may not call a model any more under `limits`, or null when it may. */
export function workflowBudgetExhausted(
  workflowId: string,
  spend: Pick<WorkflowSpend, 'tokens' | 'costUsd'> & Partial<Pick<WorkflowSpend, 'modelCalls'>>,
  limits: WorkflowLimits,
): string | null {
  if (spend.tokens >= limits.maxTokens) return `workflow ${workflowId} has spent ${spend.tokens} of its ${limits.maxTokens} tokens`;
  if (spend.costUsd >= limits.maxCostUsd) return `workflow ${workflowId} has spent ${spend.costUsd.toFixed(4)} of its ${limits.maxCostUsd} USD`;
  const modelCalls = spend.modelCalls ?? 0;
  if (limits.maxModelCalls !== undefined && modelCalls >= limits.maxModelCalls) return `workflow ${workflowId} has made ${modelCalls} of its ${limits.maxModelCalls} model calls`;
  return null;
}

/**
 * The per-workflow budget of the model calls made for a workflow outside its agent runs (the
 * supervisor's router, the model classifier, the incident diagnoser, the claim agents): before a call,
 * {@link callOptions} reads what the workflow has spent and, when a limit is reached, tells the model
 * chain not to ask a model (the non-LLM fallback answers, the hop is reported with reason
 * `budget_exhausted`) and logs why; after it, {@link record} adds the call's tokens and cost once per
 * call id ({@link recordModelCallUsage}).
 */
export class WorkflowCallBudget {
  constructor(
    private readonly ledger: WorkflowUsageLedger,
    private readonly limits: WorkflowLimits,
    private readonly logger: { log(message: string, ...fields: unknown[]): void } = new Logger('workflow-budget'),
  ) {}

  /**
   * The chain options of a call made for `workflowId` by `caller` (named in the log line), held to the
   * stricter of this budget's limits and the workflow's `declared` budget ({@link stricterLimits}).
   *
   * @throws Error from the ledger (JetStream) when the spend cannot be read.
   */
  async callOptions(workflowId: string, caller: string, declared?: WorkflowBudgetLimits): Promise<ModelCallOptions> {
    const budgetExhausted = workflowBudgetExhausted(workflowId, await this.ledger.spent(workflowId), stricterLimits(this.limits, declared));
    if (budgetExhausted !== null) {
      this.logger.log(`${caller}: ${budgetExhausted}; the non-LLM fallback answers without a model`, { workflowId, caller, reason: 'budget_exhausted' });
    }
    return { budgetExhausted };
  }

  /**
   * Adds one call's usage to `workflowId`'s spend, once per `callId` (nothing when `usage` is undefined).
   *
   * @throws Error from the ledger (JetStream) when the spend cannot be written.
   */
  async record(workflowId: string, callId: string, usage: ModelUsage | undefined): Promise<void> {
    if (usage !== undefined) await recordModelCallUsage(this.ledger, workflowId, callId, usage);
  }
}

/** Which call {@link withWorkflowBudget} meters: the workflow it is made for, its idempotency key, who makes it (for the log). */
export interface MeteredCall {
  workflowId: string;
  /** The task's effect id: its usage is counted once per id. */
  callId: string;
  /** E.g. `agents/classifier`, `supervisor/router`. */
  caller: string;
  /** The workflow's declared budget (the task's `limits.budget`), held to with the environment's limits, the stricter of each. */
  declaredBudget?: WorkflowBudgetLimits;
}

/**
 * Runs one model call made for a workflow outside its agent runs within the workflow's budget: `work`
 * gets the chain options from {@link WorkflowCallBudget.callOptions} (no model when the budget is spent),
 * and the usage `usageOf` finds in its result is recorded. With `budget` null (no model configured)
 * `work` runs with no options and nothing is recorded.
 *
 * @throws whatever `work` throws; Error from the ledger (JetStream) when the spend cannot be read or written.
 */
export async function withWorkflowBudget<T>(
  budget: WorkflowCallBudget | null,
  call: MeteredCall,
  work: (options: ModelCallOptions) => Promise<T>,
  usageOf: (result: T) => ModelUsage | undefined,
): Promise<T> {
  if (budget === null) return work({});
  const result = await work(await budget.callOptions(call.workflowId, call.caller, call.declaredBudget));
  await budget.record(call.workflowId, call.callId, usageOf(result));
  return result;
}
