import { APICallError, NoObjectGeneratedError, Output, RetryError, type ModelMessage } from 'ai';
import { invokeModel } from './invoke-model';
import { z } from 'zod';
import { ModelCallError, StructuredOutputError } from './errors';
import { modelLabel, type ChatLanguageModel } from './language-model';

/** What {@link generateStructured} asks of a model. */
export interface StructuredRequest<T> {
  model: ChatLanguageModel;
  /** The answer's shape; the model's JSON is validated with it (and transforms/defaults applied). */
  schema: z.ZodType<T>;
  /** Short snake_case name of the answer, e.g. `spam_classification`; sent to providers that name schemas. */
  schemaName: string;
  /** Instructions; the JSON schema of the answer is appended to them. */
  system: string;
  prompt: string;
  /** Attempts in all, the first included (default 2). Each retry shows the model its answer and what was wrong with it. */
  maxAttempts?: number;
  /** Retries of a failed call (rate limit, server error) inside the AI SDK, with its exponential backoff from 2 s; default 2. */
  maxRetries?: number;
  maxOutputTokens?: number;
  temperature?: number;
  abortSignal?: AbortSignal;
}

/** A validated answer and what it cost. Token counts are summed over attempts; null when the provider did not report them. */
export interface StructuredAnswer<T> {
  value: T;
  /** `provider/modelId`. */
  model: string;
  attempts: number;
  inputTokens: number | null;
  outputTokens: number | null;
}

const DEFAULT_MAX_ATTEMPTS = 2;

/**
 * Asks `model` for one JSON object of `schema` and returns it validated.
 *
 * The provider is asked for JSON output with the schema (AI SDK `Output.object`), and the schema is also
 * spelled out in the system prompt for servers that ignore response formats. An answer wrapped in a
 * Markdown code fence or surrounded by prose is still accepted when the JSON inside is valid. An invalid
 * answer is sent back to the model with the validation errors and retried, up to `maxAttempts` in all
 * (DESIGN.md "Agents": retried with the validation error fed back, then escalated).
 *
 * Every provider call runs in a GenAI span with token metrics (through `invokeModel`).
 *
 * @throws StructuredOutputError when no attempt produced a valid answer (not retryable).
 * @throws ModelCallError when the model could not be called; `retryable` as the provider decided.
 */
export async function generateStructured<T>(request: StructuredRequest<T>): Promise<StructuredAnswer<T>> {
  const model = modelLabel(request.model);
  const maxAttempts = Math.max(1, request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const system = `${request.system}\n\n${schemaInstruction(request.schema)}`;
  const messages: ModelMessage[] = [{ role: 'user', content: request.prompt }];
  const usage = new UsageTotal();
  let issues: string[] = [];
  let answerText = '';

  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    try {
      const result = await invokeModel({
        model: request.model,
        system,
        messages,
        output: Output.object({ schema: request.schema, name: request.schemaName }),
        maxRetries: request.maxRetries,
        maxOutputTokens: request.maxOutputTokens,
        temperature: request.temperature,
        abortSignal: request.abortSignal,
      });
      usage.add(result.usage);
      return { value: result.output as T, model, attempts: attempt, ...usage.totals() };
    } catch (error) {
      if (!NoObjectGeneratedError.isInstance(error)) throw toModelCallError(model, error);
      usage.add(error.usage);
      answerText = error.text ?? '';
      const lenient = parseLenient(answerText, request.schema);
      if (lenient.success) return { value: lenient.value, model, attempts: attempt, ...usage.totals() };
      issues = lenient.issues;
    }
    messages.push(
      { role: 'assistant', content: answerText },
      {
        role: 'user',
        content: `That answer is not valid:\n${issues.map((issue) => `- ${issue}`).join('\n')}\nAnswer again with only the JSON object.`,
      },
    );
  }
  throw new StructuredOutputError({ model, schemaName: request.schemaName, attempts: maxAttempts, issues, answerText });
}

function schemaInstruction(schema: z.ZodType): string {
  let jsonSchema: string;
  try {
    jsonSchema = JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
  } catch {
    jsonSchema = '(see the response format)';
  }
  return `Answer with a single JSON object and nothing else. Its JSON schema: ${jsonSchema}`;
}

type LenientResult<T> = { success: true; value: T } | { success: false; issues: string[] };

/** Parses the JSON object in `text`, tolerating a code fence or prose around it. */
function parseLenient<T>(text: string, schema: z.ZodType<T>): LenientResult<T> {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return { success: false, issues: ['(root): no JSON object in the answer'] };
  let json: unknown;
  try {
    json = JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    return { success: false, issues: [`(root): not valid JSON (${(error as Error).message})`] };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { success: true, value: parsed.data };
  return {
    success: false,
    issues: parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`),
  };
}

function toModelCallError(model: string, error: unknown): ModelCallError {
  if (APICallError.isInstance(error)) {
    return new ModelCallError(model, error.message, { retryable: error.isRetryable, cause: error });
  }
  if (RetryError.isInstance(error)) {
    const last = error.lastError;
    const retryable = APICallError.isInstance(last) ? last.isRetryable : true;
    return new ModelCallError(model, error.message, { retryable, cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new ModelCallError(model, 'call aborted', { retryable: true, cause: error });
  }
  return new ModelCallError(model, error instanceof Error ? error.message : String(error), { retryable: false, cause: error });
}

class UsageTotal {
  private input: number | null = null;
  private output: number | null = null;

  add(usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined): void {
    if (usage?.inputTokens !== undefined) this.input = (this.input ?? 0) + usage.inputTokens;
    if (usage?.outputTokens !== undefined) this.output = (this.output ?? 0) + usage.outputTokens;
  }

  totals(): { inputTokens: number | null; outputTokens: number | null } {
    return { inputTokens: this.input, outputTokens: this.output };
  }
}
