import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { handleEmailTask } from '@troupe/agent-kit';
import { JetStreamContext } from '@troupe/bus';
import { EMAIL_ROUTED, TRIAGE_AGENTS, agentTaskSubject, type Envelope } from '@troupe/contracts';
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
    return handleEmailTask(this.js, envelope, context, 'supervisor', async (email) => ({
      type: EMAIL_ROUTED,
      payload: await this.router.route(email),
    }));
  }
}
