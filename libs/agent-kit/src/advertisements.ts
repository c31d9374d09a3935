import { AgentAdvertisement, BUCKETS, type RouteCandidate } from '@troupe/contracts';
import type { JetStreamClient, KV } from 'nats';
import { listKvKeys } from '@troupe/bus';

async function bucket(js: JetStreamClient, replicas: number): Promise<KV> {
  return js.views.kv(BUCKETS.agents, { history: 1, replicas });
}

/** Writes what each agent advertises to the KV bucket `troupe_agents` (key = agent name), replacing older entries. */
export async function advertiseAgents(js: JetStreamClient, advertisements: readonly AgentAdvertisement[], options: { replicas?: number } = {}): Promise<void> {
  const kv = await bucket(js, options.replicas ?? 1);
  for (const advertisement of advertisements) await kv.put(advertisement.name, JSON.stringify(AgentAdvertisement.parse(advertisement)));
}

/**
 * Reads every advertisement in `troupe_agents`. An entry that fails {@link AgentAdvertisement} is skipped
 * and named in `invalid` (the supervisor logs it), never silently used.
 */
export async function readAgentAdvertisements(js: JetStreamClient, options: { replicas?: number } = {}): Promise<{ agents: AgentAdvertisement[]; invalid: string[] }> {
  const kv = await bucket(js, options.replicas ?? 1);
  const agents: AgentAdvertisement[] = [];
  const invalid: string[] = [];
  const keys = await listKvKeys(js, BUCKETS.agents);
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') continue;
    let json: unknown;
    try {
      json = entry.json();
    } catch {
      invalid.push(key);
      continue;
    }
    const parsed = AgentAdvertisement.safeParse(json);
    if (parsed.success) agents.push(parsed.data);
    else invalid.push(key);
  }
  return { agents, invalid };
}

/** Route candidates from advertisements: one per `routes` entry whose specialist is advertised; `missing` names the others. */
export function routeCandidates(
  advertisements: readonly AgentAdvertisement[],
  routes: Readonly<Record<string, string>>,
): { candidates: RouteCandidate[]; missing: string[] } {
  const candidates: RouteCandidate[] = [];
  const missing: string[] = [];
  for (const [route, specialist] of Object.entries(routes)) {
    const advertised = advertisements.find((ad) => ad.name === specialist);
    if (advertised === undefined) missing.push(specialist);
    else candidates.push({ route, specialist, task: advertised.task, description: advertised.description, resultEventType: advertised.resultEventType });
  }
  return { candidates, missing };
}
