import { advertisementOf } from '@troupe/agent-kit';
import {
  EMAIL_CLASSIFIED,
  EMAIL_QUARANTINED,
  EMAIL_SUMMARISED,
  EmailTaskInput,
  QuarantineTaskInput,
  REPLY_DRAFTED,
  TRIAGE_AGENTS,
  type AgentAdvertisement,
} from '@troupe/contracts';

/** What the specialists of this process advertise to the supervisor (KV bucket `troupe_agents`). */
export function triageAdvertisements(at: Date): AgentAdvertisement[] {
  const iso = at.toISOString();
  return [
    advertisementOf(
      { name: TRIAGE_AGENTS.classifier.agent, task: TRIAGE_AGENTS.classifier.task, resultEventType: EMAIL_CLASSIFIED, inputSchema: EmailTaskInput, description: 'Classifies an email as spam or ham with a confidence.' },
      iso,
    ),
    advertisementOf(
      {
        name: TRIAGE_AGENTS.summariser.agent,
        task: TRIAGE_AGENTS.summariser.task,
        resultEventType: EMAIL_SUMMARISED,
        inputSchema: EmailTaskInput,
        description: 'Summarises mailing-list posts, newsletters, announcements and notifications that need reading, not answering.',
      },
      iso,
    ),
    advertisementOf(
      {
        name: TRIAGE_AGENTS.drafter.agent,
        task: TRIAGE_AGENTS.drafter.task,
        resultEventType: REPLY_DRAFTED,
        inputSchema: EmailTaskInput,
        description: 'Drafts a reply to personal, business or support mail that expects an answer; a human approves it before it is sent.',
      },
      iso,
    ),
    advertisementOf(
      {
        name: TRIAGE_AGENTS.quarantine.agent,
        task: TRIAGE_AGENTS.quarantine.task,
        resultEventType: EMAIL_QUARANTINED,
        inputSchema: QuarantineTaskInput,
        description: 'Moves an email settled as spam to quarantine and records why (classification, reviewer, spam signals, sender history).',
      },
      iso,
    ),
  ];
}
