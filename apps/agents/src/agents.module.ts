import { Module, type DynamicModule } from '@nestjs/common';
import type { AgentHost, WorkflowCallBudget } from '@troupe/agent-kit';
import type { SentMailLedger } from '@troupe/persistence';
import type { JetStreamClient } from 'nats';
import type { IncidentAgents } from './incidents/incident-agents';
import { INCIDENT_AGENTS_TOKEN, IncidentTasksController } from './incidents/incident-tasks.controller';
import type { ClaimAgents } from './claims/claim-agents';
import type { ClaimLedgers } from './claims/claim-ledgers';
import { CLAIM_AGENT_SET, CLAIM_CLOCK, CLAIM_LEDGERS, ClaimTasksController } from './claims/claim-tasks.controller';
import { ReplySendController, SENT_MAIL_LEDGER } from './mail/reply-send.controller';
import { AGENT_HOST, AgentRunsController } from './runs/agent-runs.controller';
import { AgentTasksController, JETSTREAM, TRIAGE_SPECIALISTS, WORKFLOW_BUDGET, type TriageSpecialists } from './tasks/agent-tasks.controller';

/** Wires the agents app: the specialists' task handlers, the agent-run effects, the reply-send effect and the claim agents. */
@Module({})
export class AgentsModule {
  static forRoot(deps: {
    specialists: TriageSpecialists;
    sentMail: SentMailLedger;
    js: JetStreamClient;
    agentHost: AgentHost | null;
    incidents: IncidentAgents;
    claims: { agents: ClaimAgents; ledgers: ClaimLedgers; now?: () => Date };
    /** The per-workflow budget of the one-step model calls (classifier, incident diagnoser, claim agents); null or absent: neither checked nor counted. */
    budget?: WorkflowCallBudget | null;
  }): DynamicModule {
    return {
      module: AgentsModule,
      controllers: [AgentTasksController, ReplySendController, AgentRunsController, IncidentTasksController, ClaimTasksController],
      providers: [
        { provide: TRIAGE_SPECIALISTS, useValue: deps.specialists },
        { provide: SENT_MAIL_LEDGER, useValue: deps.sentMail },
        { provide: JETSTREAM, useValue: deps.js },
        { provide: AGENT_HOST, useValue: deps.agentHost },
        { provide: WORKFLOW_BUDGET, useValue: deps.budget ?? null },
        { provide: INCIDENT_AGENTS_TOKEN, useValue: deps.incidents },
        { provide: CLAIM_AGENT_SET, useValue: deps.claims.agents },
        { provide: CLAIM_LEDGERS, useValue: deps.claims.ledgers },
        { provide: CLAIM_CLOCK, useValue: deps.claims.now ?? (() => new Date()) },
      ],
    };
  }
}
