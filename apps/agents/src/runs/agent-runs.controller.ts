import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { AgentHost } from '@troupe/agent-kit';
import { JetStreamContext } from '@troupe/bus';
import { AGENT_EFFECT_KINDS, effectSubject, type Envelope } from '@troupe/contracts';

/** Injection token of the {@link AgentHost} (null when agent runs are off). */
export const AGENT_HOST = Symbol('AGENT_HOST');

/** The effects of agent runs: model calls, tool calls, and the result sent back to the asking workflow. */
@Controller()
export class AgentRunsController {
  constructor(@Inject(AGENT_HOST) private readonly host: AgentHost | null) {}

  @EventPattern(effectSubject(AGENT_EFFECT_KINDS.modelCall))
  modelCall(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.hosted().modelCall(envelope, context);
  }

  @EventPattern(effectSubject(AGENT_EFFECT_KINDS.toolCall))
  toolCall(@Payload() envelope: Envelope, @Ctx() context: JetStreamContext): Promise<string> {
    return this.hosted().toolCall(envelope, context);
  }

  @EventPattern(effectSubject(AGENT_EFFECT_KINDS.agentResult))
  agentResult(@Payload() envelope: Envelope): Promise<string> {
    return this.hosted().agentResult(envelope);
  }

  private hosted(): AgentHost {
    // Consumers of these subjects are only started when the host exists.
    if (this.host === null) throw new Error('agent runs are not enabled in this process');
    return this.host;
  }
}
