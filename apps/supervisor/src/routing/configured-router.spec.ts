import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESILIENCE, ModelFallbackReporter, ProviderBreakers, SCRIPTED_TEST_PROVIDER, resilienceFromEnvironment } from '@troupe/agent-kit';
import { ConfigurationError, parseEnvironment, type Email } from '@troupe/contracts';
import { SupervisorEnvironment } from '../config';
import { configuredRouter } from './configured-router';

/** A mailing-list post: the header rules send it to the summariser. */
const listMail: Email = { messageId: '<1@x>', from: 'list@example.org', to: 'me@example.org', subject: 'Weekly digest', date: null, text: 'News.', headers: { 'list-id': '<news.example.org>' }, origin: {} };

/** The environment of a supervisor whose model is the scripted test double answering the router with `answers`. */
function scriptedModelEnv(answers: unknown[]): NodeJS.ProcessEnv {
  const scriptFile = path.join(mkdtempSync(path.join(tmpdir(), 'configured-router-')), 'script.json');
  writeFileSync(scriptFile, JSON.stringify({ answers: {}, answersBySystemPrompt: [{ contains: 'supervisor of an inbox-triage team', answers }] }));
  return { TROUPE_MODEL_PROVIDER: SCRIPTED_TEST_PROVIDER, TROUPE_MODEL_SCRIPT_FILE: scriptFile };
}

const outage = { error: { message: 'scripted outage', statusCode: 503, retryable: true } };
const decision = { text: '{"route":"draft_reply","confidence":0.9,"reason":"a question"}' };

describe("the supervisor reads the agents' model resilience settings (ModelResilienceEnvironment)", () => {
  it("maps TROUPE_MODEL_TIMEOUT_MS, _ATTEMPTS and _BREAKER_THRESHOLD to the chain and its breakers, defaults as the agents'", () => {
    const env = parseEnvironment(SupervisorEnvironment, { TROUPE_MODEL_TIMEOUT_MS: '1500', TROUPE_MODEL_ATTEMPTS: '1', TROUPE_MODEL_BREAKER_THRESHOLD: '2' });
    expect(resilienceFromEnvironment(env)).toEqual({ ...DEFAULT_RESILIENCE, timeoutMs: 1_500, attemptsPerModel: 1, breakerThreshold: 2 });
    expect(resilienceFromEnvironment(parseEnvironment(SupervisorEnvironment, {}))).toEqual(DEFAULT_RESILIENCE);
  });

  it('refuses a bad setting at boot, naming it', () => {
    expect(() => parseEnvironment(SupervisorEnvironment, { TROUPE_MODEL_ATTEMPTS: '0', TROUPE_MODEL_TIMEOUT_MS: 'soon' })).toThrow(ConfigurationError);
    expect(() => parseEnvironment(SupervisorEnvironment, { TROUPE_MODEL_ATTEMPTS: '0' })).toThrow(/TROUPE_MODEL_ATTEMPTS/);
    expect(() => parseEnvironment(SupervisorEnvironment, { TROUPE_MODEL_TIMEOUT_MS: 'soon' })).toThrow(/TROUPE_MODEL_TIMEOUT_MS/);
  });

  it('routes with the header rules when no model is configured', async () => {
    const router = configuredRouter(parseEnvironment(SupervisorEnvironment, {}), {}, new ProviderBreakers());
    expect(router.name).toBe('header-rules (non-LLM)');
  });

  it('retries as often as TROUPE_MODEL_ATTEMPTS says and opens the circuit after TROUPE_MODEL_BREAKER_THRESHOLD failures', async () => {
    const processEnv = { ...scriptedModelEnv([outage, outage, decision]), TROUPE_MODEL_ATTEMPTS: '1', TROUPE_MODEL_BREAKER_THRESHOLD: '2' };
    const env = parseEnvironment(SupervisorEnvironment, processEnv);
    const warnings: string[] = [];
    const breakers = new ProviderBreakers(resilienceFromEnvironment(env), new ModelFallbackReporter({ logger: { warn: (line) => warnings.push(line), log: () => undefined } }));
    const router = configuredRouter(env, processEnv, breakers);
    // One attempt per routing (the default 3 would reach the scripted decision on the third call).
    expect((await router.route(listMail)).router).toBe('chain/fallback/header-rules');
    expect((await router.route(listMail)).router).toBe('chain/fallback/header-rules');
    // Two consecutive failures opened the circuit: the model is skipped though it would now answer.
    expect(await router.route(listMail)).toMatchObject({ route: 'summarise', router: 'chain/fallback/header-rules' });
    expect(warnings).toEqual([
      'model scripted/scripted-model gave up (server_error), falling back to fallback/header-rules',
      'circuit of provider scripted opened: its calls are skipped until a trial call succeeds',
      // Logged again: the circuit changed state since the first line.
      'model scripted/scripted-model gave up (server_error), falling back to fallback/header-rules',
      'model scripted/scripted-model gave up (circuit_open), falling back to fallback/header-rules',
    ]);
  });
});
