import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext, runEffect } from '@troupe/bus';
import { AgentTaskRequested, EMAIL_ROUTED, EmailTaskInput, TRIAGE_AGENTS, agentTaskSubject, parseOrThrow, type Envelope } from '@troupe/contracts';
import type { JetStreamClient } from 'nats';
import type { TriageRouter } from '../routing/triage-router';

/** Injection token of the router. */
export const TRIAGE_ROUTER = Symbol('TRIAGE_ROUTER');
/** Injection token of the JetStream client. */
export const JETSTREAM = Symbol('JETSTREAM');

/** The supervisor's routing task: decides which specialist handles a legitimate email. */
@Controller()
export class RouteTaskController {
  constructor(
    @Inject(TRIAGE_ROUTER) private readonly router: TriageRouter,
    @Inject(JETSTREAM) private readonly js: JetStreamClient,
  ) {}

  @EventPattern(agentTaskSubject(TRIAGE_AGENTS.supervisor.agent))
  route(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    const task = parseOrThrow(AgentTaskRequested, envelope.payload, `${envelope.type} payload`);
    const { email } = parseOrThrow(EmailTaskInput, task.input, 'supervisor task input');
    return runEffect(this.js, { envelope, context, effectId: task.effectId, kind: 'agent.task', source: 'supervisor' }, async () => ({
      type: EMAIL_ROUTED,
      payload: await this.router.route(email),
    }));
  }
}
