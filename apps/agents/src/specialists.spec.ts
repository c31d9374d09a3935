import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPTED_TEST_PROVIDER } from '@troupe/agent-kit';
import { parseEnvironment, type Email } from '@troupe/contracts';
import { AgentsEnvironment } from './config';
import { configuredChains } from './model-chains';
import { specBreakers } from './testing/one-step-chain';
import { createTriageSpecialists } from './specialists';

const email: Email = { messageId: '<1@x>', from: 'Ann <ann@example.org>', to: 'me@example.org', subject: 'Lunch?', date: null, text: 'Friday at noon?', headers: {}, origin: {} };

describe('createTriageSpecialists', () => {
  it('with a model configured, drafts and summarises through the process chains (TROUPE_MODEL_ATTEMPTS applies): the model, then the template and the extractive summariser', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'specialists-'));
    const scriptFile = path.join(dir, 'script.json');
    writeFileSync(
      scriptFile,
      JSON.stringify({
        answers: {},
        answersBySystemPrompt: [
          { contains: 'You draft email replies', answers: [{ text: '{"body":"Hello Ann, noon works.","reasoning":"she asked"}', inputTokens: 50, outputTokens: 9 }] },
          { contains: 'You summarise mailing-list', answers: [{ error: { message: 'scripted outage', statusCode: 503, retryable: true } }] },
        ],
      }),
    );
    const processEnv = { TROUPE_MODEL_PROVIDER: SCRIPTED_TEST_PROVIDER, TROUPE_MODEL_SCRIPT_FILE: scriptFile, TROUPE_MODEL_ATTEMPTS: '1', TROUPE_REACT_LOOP: 'never', TROUPE_MODEL_CACHE_DIR: dir };
    const env = parseEnvironment(AgentsEnvironment, processEnv);
    // Naive Bayes is trained into the empty cache directory first (about 5 s).
    const specialists = await createTriageSpecialists(env, processEnv, configuredChains(env, processEnv, specBreakers()));
    expect(await specialists.drafter.draft(email)).toMatchObject({
      body: 'Hello Ann, noon works.',
      drafter: 'chain/scripted/scripted-model',
      usage: { model: 'scripted/scripted-model', inputTokens: 50, outputTokens: 9 },
    });
    expect(await specialists.summariser.summarise(email)).toMatchObject({ summariser: 'chain/fallback/extractive', usage: { inputTokens: 0 } });
  }, 60_000);
});
