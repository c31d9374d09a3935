import { z } from 'zod';
import type { AgentAdvertisement, RunBudget, RunUsage } from '@troupe/contracts';
import type { ModelChain } from './model-chain';
import type { AnyToolDefinition } from './tools';

/**
 * One agent as a team writes it on Troupe: what it is (advertised to the supervisor), the task it takes
 * and its input schema, its prompt and tools, the shape of its final answer, the model chain that
 * serves it (models, then a non-LLM fallback) and the budget of each run. A run of it is a `react-loop`
 * actor; {@link AgentRegistry} lets the effect executors find it by name.
 */
export interface AgentDefinition<TInput = unknown, TAnswer = unknown> {
  name: string;
  description: string;
  task: string;
  /** The event type the asking workflow receives the result as (e.g. `reply.drafted`). */
  resultEventType: string;
  inputSchema: z.ZodType<TInput>;
  /** The final answer's schema; null for free text. */
  answerSchema: z.ZodType<TAnswer> | null;
  system: string;
  tools: readonly AnyToolDefinition[];
  /** The first user message of a run, from the validated input. */
  prompt(input: TInput): string;
  /** The result event's payload from the final answer and the run's usage. */
  toResult(answer: TAnswer, usage: RunUsage, input: TInput): unknown;
  chain: ModelChain;
  budget: RunBudget;
  /** Invalid answers retried before a human is asked (default 2). */
  maxInvalidAnswers?: number;
}

/** Any agent definition, whatever its types. */
export type AnyAgentDefinition = AgentDefinition<never, never> & { inputSchema: z.ZodType; answerSchema: z.ZodType | null };

/** Declares an agent with its types inferred. */
export function defineAgent<TInput, TAnswer>(agent: AgentDefinition<TInput, TAnswer>): AgentDefinition<TInput, TAnswer> {
  return agent;
}

/** The agents a process hosts, by name. */
export class AgentRegistry {
  private readonly agents = new Map<string, AnyAgentDefinition>();

  constructor(agents: readonly AgentDefinition<never, never>[] = []) {
    for (const agent of agents) this.register(agent);
  }

  /** @throws Error when an agent of that name is registered already. */
  register(agent: AgentDefinition<never, never>): void {
    if (this.agents.has(agent.name)) throw new Error(`agent ${agent.name} is registered twice`);
    this.agents.set(agent.name, agent as AnyAgentDefinition);
  }

  get(name: string): AnyAgentDefinition | undefined {
    return this.agents.get(name);
  }

  get names(): string[] {
    return [...this.agents.keys()];
  }

  /** What each agent advertises on the bus. */
  advertisements(at: string): AgentAdvertisement[] {
    return [...this.agents.values()].map((agent) => advertisementOf(agent, at));
  }
}

/** The advertisement of one agent: name, description, task, result event type and input JSON schema. */
export function advertisementOf(
  agent: { name: string; description: string; task: string; resultEventType: string; inputSchema: z.ZodType },
  at: string,
): AgentAdvertisement {
  let inputSchema: Record<string, unknown>;
  try {
    inputSchema = z.toJSONSchema(agent.inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    inputSchema = { type: 'object' };
  }
  return { name: agent.name, description: agent.description, task: agent.task, inputSchema, resultEventType: agent.resultEventType, advertisedAt: at };
}
