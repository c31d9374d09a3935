/**
 * The ReAct-shaped workload both Troupe and the LangGraph.js peer run: a question, then `toolRounds`
 * rounds of reason (the model asks for a tool) → act (the tool answers), then a last reason that
 * answers. The model and the tool are deterministic functions of their input: no network, no clock, no
 * randomness, so both sides compute exactly the same turns and the same answer.
 *
 * One workflow therefore makes `2 × toolRounds + 1` node steps (model calls + tool calls): LangGraph runs
 * each as a node and checkpoints after it; Troupe runs each as an agent task (an effect) whose result
 * event is one durable actor step.
 */

/** Reason/act rounds before the answer (3: a short but real ReAct loop). */
export const REACT_TOOL_ROUNDS = 3;

/** What the model sees: the question, the tool results so far, and how many tools it will call. */
export interface ReasonInput {
  question: string;
  observations: string[];
  toolRounds: number;
}

/** One model turn: ask for a tool, or answer. */
export type ModelTurn = { kind: 'tool'; tool: 'lookup'; query: string } | { kind: 'answer'; text: string };

/** Node steps of one workflow of `toolRounds` rounds: model calls plus tool calls. */
export function nodeStepsPerWorkflow(toolRounds: number): number {
  return 2 * toolRounds + 1;
}

/** The question of workflow number `index`. */
export function reactQuestion(index: number): string {
  return `What is the status of order ${index}, and when will it ship?`;
}

/** FNV-1a 32-bit, as a stand-in for model and tool work that depends on every input character. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The deterministic mock model: asks for a `lookup` until it has `toolRounds` observations, then
 * answers from them.
 */
export function mockModel(input: ReasonInput): ModelTurn {
  if (input.observations.length < input.toolRounds) {
    return { kind: 'tool', tool: 'lookup', query: `${input.question} [step ${input.observations.length + 1}: ${fnv1a(input.question + input.observations.join('|'))}]` };
  }
  return { kind: 'answer', text: `Answer ${fnv1a(input.observations.join('|'))}: ${input.observations.length} facts looked up for "${input.question}".` };
}

/** The deterministic mock tool: a lookup whose result depends on the query only. */
export function mockTool(query: string): string {
  return `lookup(${query.length} chars) = record ${fnv1a(query)}, in stock, ships in 2 days`;
}
