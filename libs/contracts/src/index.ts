/**
 * @troupe/contracts: the schemas and names every Troupe process agrees on.
 *
 * Start with {@link Envelope} (every bus message), the subject functions in `topology` (never write a
 * subject as a string literal elsewhere), {@link Effect} (what machines ask of the world) and the
 * triage messages. Schemas and types share one name (`EmailClassified` is both).
 */
export { TroupeError, SchemaValidationError, isNonRetryable } from './errors';
export {
  WorkflowId,
  EventType,
  Envelope,
  type TypedEnvelope,
  formatIssues,
  parseOrThrow,
  decodeEnvelope,
  encodeEnvelope,
} from './envelope';
export {
  SUBJECT_ROOT,
  DEFAULT_PARTITION_COUNT,
  partitionOf,
  workflowEventSubject,
  ALL_WORKFLOW_EVENTS,
  partitionEventsFilter,
  timerSubject,
  ALL_TIMERS,
  TIMER_CONSUMER,
  agentTaskSubject,
  effectSubject,
  APPROVAL_REQUESTED_SUBJECT,
  workflowChangedSubject,
  ALL_WORKFLOW_CHANGES,
  journalSubject,
  journalArchiveSubject,
  deadLetterSubject,
  ALL_DEAD_LETTERS,
  type StreamDefinition,
  STREAMS,
  BUCKETS,
  type ConsumerDefinition,
  ORCHESTRATOR_CONSUMER,
  orchestratorPartitionConsumer,
  agentConsumer,
  effectConsumer,
} from './topology';
export {
  AgentTaskEffect,
  Role,
  ApprovalRequestEffect,
  ReplySendEffect,
  Effect,
  AGENT_TASK_REQUESTED,
  AgentTaskRequested,
  REPLY_SEND_REQUESTED,
  ReplySendRequested,
  APPROVAL_REQUESTED,
  ApprovalRequested,
  effectResultEventId,
  EFFECT_FAILED,
  EffectFailed,
} from './effects';
export {
  WorkflowStatus,
  StateValue,
  PendingApproval,
  WORKFLOW_CHANGED,
  WorkflowChanged,
  APPROVAL_DECIDED,
  ApprovalDecided,
  DEAD_LETTERED,
  DeadLetter,
  JournalEntry,
  WORKFLOW_CANCEL_REQUESTED,
  WORKFLOW_MIGRATED,
  WorkflowCancelRequested,
} from './workflow';
export {
  EMAIL_TRIAGE,
  MAX_EMAIL_TEXT_CHARS,
  Email,
  EMAIL_RECEIVED,
  EmailReceived,
  SpamLabel,
  EMAIL_CLASSIFIED,
  EmailClassified,
  TriageRoute,
  EMAIL_ROUTED,
  EmailRouted,
  EMAIL_SUMMARISED,
  EmailSummarised,
  REPLY_DRAFTED,
  ReplyDrafted,
  REPLY_SENT,
  ReplySent,
  TRIAGE_AGENTS,
  EmailTaskInput,
  REPLY_SEND,
  emailReceivedEnvelope,
} from './triage';
export { ConfigurationError, BaseEnvironment, parseEnvironment, logLevelsFrom } from './environment';
export { DelayedEvent, TIMER_SCHEDULED, TimerScheduled, TIMER_FIRED, TimerFired, timerFiredEventId } from './timers';
