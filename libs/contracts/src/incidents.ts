import { z } from 'zod';
import { WorkflowId } from './envelope';

/** The workflow type of IoT incident response. */
export const INCIDENT_RESPONSE = 'incident-response';

/** Sensor channels of a TelosB mote in the Suthaharan single-hop data set. */
export const SensorChannel = z.enum(['humidity', 'temperature']);
export type SensorChannel = z.infer<typeof SensorChannel>;

/** How urgent an alert or a diagnosis is. Critical alerts page on-call and trigger a safe action. */
export const IncidentSeverity = z.enum(['critical', 'warning']);
export type IncidentSeverity = z.infer<typeof IncidentSeverity>;

/**
 * An alert raised by the anomaly detector over a mote's readings: one episode of anomalous readings.
 * Readings are numbered as in the data set (1-based, one every 5 s per mote). `peakRobustZ` is the
 * largest absolute robust z-score (median/MAD) of any channel in the episode. Never carries the label.
 */
export const SensorAlert = z.object({
  alertId: z.string().min(1).max(128),
  moteId: z.number().int().positive(),
  indoor: z.boolean(),
  firstReading: z.number().int().positive(),
  lastReading: z.number().int().positive(),
  /** Readings flagged in the episode (at most `lastReading - firstReading + 1`). */
  flaggedReadings: z.number().int().positive(),
  channels: z.array(SensorChannel).min(1),
  peakRobustZ: z.number().nonnegative(),
  /** Humidity (% RH) and temperature (°C) at the peak reading. */
  peak: z.object({ reading: z.number().int().positive(), humidity: z.number(), temperature: z.number() }),
  severity: IncidentSeverity,
  /** Which detector raised it, e.g. `robust-z/mad-w120-t8`. */
  detector: z.string().max(256),
  /** Where it came from, e.g. `{ dataset: 'suthaharan-single-hop' }`. */
  origin: z.record(z.string(), z.string()).default({}),
});
export type SensorAlert = z.infer<typeof SensorAlert>;

/** `incident.alert_received`: starts an incident-response workflow. */
export const INCIDENT_ALERT_RECEIVED = 'incident.alert_received';
export const IncidentAlertReceived = z.object({ alert: SensorAlert });
export type IncidentAlertReceived = z.infer<typeof IncidentAlertReceived>;

/** Robust baseline of one channel over a window: median and median absolute deviation, in the channel's unit. */
export const ChannelBaseline = z.object({ median: z.number(), mad: z.number().nonnegative() });
export type ChannelBaseline = z.infer<typeof ChannelBaseline>;

/** `incident.enriched`: the device's history before the alert. */
export const INCIDENT_ENRICHED = 'incident.enriched';
export const IncidentEnriched = z.object({
  moteId: z.number().int().positive(),
  /** Readings of the mote before the alert that the baseline was computed over. */
  historyReadings: z.number().int().nonnegative(),
  baseline: z.object({ humidity: ChannelBaseline, temperature: ChannelBaseline }),
  /** Earlier anomaly episodes of this mote in the history window the enricher knows of. */
  priorEpisodes: z.number().int().nonnegative(),
  enricher: z.string().max(256),
});
export type IncidentEnriched = z.infer<typeof IncidentEnriched>;

/** The remediation a diagnosis proposes; a human approves it before it runs. */
export const ProposedFix = z.object({
  action: z.enum(['recalibrate-sensor', 'inspect-enclosure', 'replace-sensor', 'none']),
  description: z.string().max(4_000),
});
export type ProposedFix = z.infer<typeof ProposedFix>;

/** `incident.diagnosed`: the diagnoser's structured answer. Tokens are null for offline diagnosers. */
export const INCIDENT_DIAGNOSED = 'incident.diagnosed';
export const IncidentDiagnosed = z.object({
  severity: IncidentSeverity,
  cause: z.string().max(4_000),
  /** True when the anomaly needs no fix (a transient blip): the incident closes as monitored. */
  transient: z.boolean(),
  proposedFix: ProposedFix,
  confidence: z.number().min(0).max(1),
  diagnoser: z.string().max(256),
  inputTokens: z.number().int().nonnegative().nullable().default(null),
  outputTokens: z.number().int().nonnegative().nullable().default(null),
});
export type IncidentDiagnosed = z.infer<typeof IncidentDiagnosed>;

/** `oncall.paged`: the page was recorded for the on-call engineer. */
export const ONCALL_PAGED = 'oncall.paged';
export const OncallPaged = z.object({
  pageId: z.string().min(1).max(256),
  onCall: z.string().max(256),
  pagedAt: z.iso.datetime({ offset: true }),
  pager: z.string().max(256),
});
export type OncallPaged = z.infer<typeof OncallPaged>;

/** `safe_action.applied`: the automated, reversible safe action taken for a critical alert. */
export const SAFE_ACTION_APPLIED = 'safe_action.applied';
export const SafeActionApplied = z.object({
  action: z.enum(['quarantine-readings', 'none']),
  detail: z.string().max(4_000),
  appliedAt: z.iso.datetime({ offset: true }),
  actor: z.string().max(256),
});
export type SafeActionApplied = z.infer<typeof SafeActionApplied>;

/** `fix.executed`: the approved fix ran (recorded work order); `succeeded` false escalates. */
export const FIX_EXECUTED = 'fix.executed';
export const FixExecuted = z.object({
  workOrderId: z.string().min(1).max(256),
  action: z.string().max(128),
  instructions: z.string().max(4_000),
  succeeded: z.boolean(),
  detail: z.string().max(4_000),
  remediator: z.string().max(256),
});
export type FixExecuted = z.infer<typeof FixExecuted>;

/** `incident.escalated`: handed to engineering (a recorded ticket). */
export const INCIDENT_ESCALATED = 'incident.escalated';
export const IncidentEscalated = z.object({
  ticketId: z.string().min(1).max(256),
  reason: z.string().max(4_000),
  escalator: z.string().max(256),
});
export type IncidentEscalated = z.infer<typeof IncidentEscalated>;

/** `incident.reported`: the final incident report joining every branch. */
export const INCIDENT_REPORTED = 'incident.reported';
export const IncidentReported = z.object({
  title: z.string().max(512),
  body: z.string().max(16_000),
  reporter: z.string().max(256),
});
export type IncidentReported = z.infer<typeof IncidentReported>;

/** How an incident ended, as the report states it. */
export const IncidentOutcome = z.enum(['fixed', 'escalated', 'monitored']);
export type IncidentOutcome = z.infer<typeof IncidentOutcome>;

/** Agent names and tasks of incident response (each agent its own work queue). */
export const INCIDENT_AGENTS = {
  enricher: { agent: 'incident-enricher', task: 'incident.enrich' },
  diagnoser: { agent: 'incident-diagnoser', task: 'incident.diagnose' },
  pager: { agent: 'incident-pager', task: 'oncall.page' },
  safeAction: { agent: 'incident-safe-action', task: 'safe_action.apply' },
  remediator: { agent: 'incident-remediator', task: 'fix.execute' },
  escalator: { agent: 'incident-escalator', task: 'incident.escalate' },
  reporter: { agent: 'incident-reporter', task: 'incident.report' },
} as const;

/**
 * Input of every incident agent task: the alert, and what the workflow knows so far (null until known).
 * `fixInstructions` is what the approver approved or edited.
 */
export const IncidentTaskInput = z.object({
  workflowId: WorkflowId,
  alert: SensorAlert,
  enrichment: IncidentEnriched.nullable().default(null),
  diagnosis: IncidentDiagnosed.nullable().default(null),
  page: OncallPaged.nullable().default(null),
  safeAction: SafeActionApplied.nullable().default(null),
  fixInstructions: z.string().max(4_000).nullable().default(null),
  fix: FixExecuted.nullable().default(null),
  escalation: IncidentEscalated.nullable().default(null),
  decision: z
    .object({ decision: z.enum(['approved', 'rejected', 'edited']), approverId: z.string(), comment: z.string().nullable() })
    .nullable()
    .default(null),
  outcome: IncidentOutcome.nullable().default(null),
});
export type IncidentTaskInput = z.infer<typeof IncidentTaskInput>;

/**
 * The envelope that starts an incident-response workflow: id `<workflowId>:alert` (so publishing the
 * same alert twice starts one workflow), correlation id = workflow id, no cause.
 */
export function incidentAlertEnvelope(workflowId: string, alert: SensorAlert, meta: { source: string; occurredAt: string }) {
  return {
    id: `${workflowId}:alert`,
    type: INCIDENT_ALERT_RECEIVED,
    workflowId,
    correlationId: workflowId,
    causationId: null,
    occurredAt: meta.occurredAt,
    source: meta.source,
    payload: { alert } satisfies IncidentAlertReceived,
  };
}
