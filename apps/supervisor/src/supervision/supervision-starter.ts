import { publishEnvelope } from '@troupe/bus';
import { routeCandidates } from '@troupe/agent-kit';
import {
  FanOutTaskInput,
  ROUTE_DECIDE_TASK,
  SUPERVISION_COMPLETED,
  SUPERVISION_REQUESTED,
  EMAIL_ROUTED,
  TRIAGE_AGENTS,
  TroupeError,
  parseOrThrow,
  supervisionId,
  workflowEventTypeSubject,
  type AgentAdvertisement,
  type AgentTaskRequested,
  type Envelope,
  type SupervisionRequested,
} from '@troupe/contracts';
import type { JetStreamClient } from 'nats';

/** A specialist the task needs has not advertised itself yet: retried (nak with backoff) until it has. */
export class SpecialistNotAdvertisedError extends TroupeError {
  constructor(missing: string[]) {
    super('SPECIALIST_NOT_ADVERTISED', `specialists not advertised in the agents bucket yet: ${missing.join(', ')}`, { retryable: true });
  }
}

/** Triage routes and the specialist behind each. */
export const TRIAGE_ROUTES: Readonly<Record<string, string>> = {
  summarise: TRIAGE_AGENTS.summariser.agent,
  draft_reply: TRIAGE_AGENTS.drafter.agent,
};

/** Ports and settings of a {@link SupervisionStarter}. */
export interface SupervisionStarterOptions {
  js: JetStreamClient;
  /** The specialists currently advertised on the bus. */
  advertisements: () => Promise<AgentAdvertisement[]>;
  /** Below this confidence a human decides the route (0: never). */
  confidenceThreshold: number;
  /** Default join timeout of a fan-out (ms). */
  joinTimeoutMs: number;
  now?: () => Date;
}

/**
 * Starts supervisor-routing actors: for a workflow's routing task (`email.route`) a `route` supervision
 * among the advertised triage specialists; for a `task.fan_out` a fan-out to the named routes (every
 * advertised agent is a route under its own name). The supervision id comes from the task's effect id,
 * the start envelope id is `<supervisionId>:requested`, so a redelivered task starts one supervision.
 */
export class SupervisionStarter {
  constructor(private readonly options: SupervisionStarterOptions) {}

  /** @throws SpecialistNotAdvertisedError (retryable) when a triage specialist is not advertised. */
  async startRouting(envelope: Envelope, task: AgentTaskRequested): Promise<'started'> {
    const { candidates, missing } = routeCandidates(await this.options.advertisements(), TRIAGE_ROUTES);
    if (missing.length > 0) throw new SpecialistNotAdvertisedError(missing);
    return this.start(envelope, task, {
      input: task.input,
      candidates,
      mode: 'route',
      fanOut: [],
      joinTimeoutMs: this.options.joinTimeoutMs,
      resultEventType: EMAIL_ROUTED,
    });
  }

  /** @throws SchemaValidationError for a bad fan-out input; SpecialistNotAdvertisedError (retryable). */
  async startFanOut(envelope: Envelope, task: AgentTaskRequested): Promise<'started'> {
    const request = parseOrThrow(FanOutTaskInput, task.input, `${task.task} input`);
    const routes = Object.fromEntries(request.routes.map((route) => [route, route]));
    const { candidates, missing } = routeCandidates(await this.options.advertisements(), routes);
    if (missing.length > 0) throw new SpecialistNotAdvertisedError(missing);
    return this.start(envelope, task, {
      input: request.input,
      candidates,
      mode: 'fan_out',
      fanOut: request.routes,
      joinTimeoutMs: request.joinTimeoutMs ?? this.options.joinTimeoutMs,
      resultEventType: SUPERVISION_COMPLETED,
    });
  }

  private async start(
    envelope: Envelope,
    task: AgentTaskRequested,
    request: Pick<SupervisionRequested, 'input' | 'candidates' | 'mode' | 'fanOut' | 'joinTimeoutMs' | 'resultEventType'>,
  ): Promise<'started'> {
    const id = supervisionId(task.effectId);
    const payload: SupervisionRequested = {
      ...request,
      // A task that counts against another workflow (a supervision started by a supervision) keeps counting there.
      parent: { workflowId: envelope.workflowId, effectId: task.effectId, task: task.task, ...(task.budgetWorkflowId === undefined ? {} : { budgetWorkflowId: task.budgetWorkflowId }) },
      confidenceThreshold: this.options.confidenceThreshold,
      router: { agent: TRIAGE_AGENTS.supervisor.agent, task: ROUTE_DECIDE_TASK },
    };
    const start: Envelope = {
      id: `${id}:requested`,
      type: SUPERVISION_REQUESTED,
      workflowId: id,
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      occurredAt: (this.options.now ?? (() => new Date()))().toISOString(),
      source: 'supervisor',
      payload,
    };
    await publishEnvelope(this.options.js, workflowEventTypeSubject(id, start.type), start, { msgId: start.id });
    return 'started';
  }
}
