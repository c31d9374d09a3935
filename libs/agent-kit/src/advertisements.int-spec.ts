import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUCKETS } from '@troupe/contracts';
import { startNatsServer, type NatsServerHandle } from '@troupe/testing';
import { advertisementOf } from './agent-definition';
import { advertiseAgents, readAgentAdvertisements, routeCandidates } from './advertisements';

let server: NatsServerHandle;
let nats: NatsConnection;
beforeAll(async () => {
  server = await startNatsServer();
  nats = await connect({ servers: server.url });
});
afterAll(async () => {
  await nats?.close();
  await server?.stop();
});

const at = '2026-12-01T09:00:00.000Z';
const ad = (name: string) =>
  advertisementOf({ name, description: `the ${name}`, task: `${name}.do`, resultEventType: `${name}.done`, inputSchema: z.object({ text: z.string() }) }, at);

describe('agent advertisements on the bus', () => {
  it('reads back every advertised agent with its input JSON schema, and names a broken entry instead of using it', async () => {
    const js = nats.jetstream();
    await advertiseAgents(js, [ad('summariser'), ad('drafter'), ad('classifier')]);
    await (await js.views.kv(BUCKETS.agents)).put('broken', '{"name":"broken"}');
    const { agents, invalid } = await readAgentAdvertisements(js);
    expect(agents.map((agent) => agent.name).sort()).toEqual(['classifier', 'drafter', 'summariser']);
    expect(agents.find((agent) => agent.name === 'drafter')?.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    expect(invalid).toEqual(['broken']);

    const { candidates, missing } = routeCandidates(agents, { summarise: 'summariser', draft_reply: 'drafter', translate: 'translator' });
    expect(candidates).toEqual([
      { route: 'summarise', specialist: 'summariser', task: 'summariser.do', description: 'the summariser', resultEventType: 'summariser.done' },
      { route: 'draft_reply', specialist: 'drafter', task: 'drafter.do', description: 'the drafter', resultEventType: 'drafter.done' },
    ]);
    expect(missing).toEqual(['translator']);
  });
});
