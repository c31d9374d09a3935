import {
  INCIDENT_DIAGNOSED,
  INCIDENT_ENRICHED,
  INCIDENT_ESCALATED,
  INCIDENT_REPORTED,
  FIX_EXECUTED,
  ONCALL_PAGED,
  SAFE_ACTION_APPLIED,
  type FixExecuted,
  type IncidentDiagnosed,
  type IncidentEnriched,
  type IncidentEscalated,
  type IncidentReported,
  type IncidentTaskInput,
  type ModelUsage,
  type OncallPaged,
  type SafeActionApplied,
} from '@troupe/contracts';
import type { ModelCallOptions } from '@troupe/agent-kit';
import { DEFAULT_ROBUST_Z_OPTIONS, detectAlerts, readingsByMote, robustBaseline, type SensorReading } from '@troupe/sensor-data';

/**
 * The agents of incident response, one interface each. The defaults here are deterministic offline
 * stand-ins: they read the sensor data set and record what they would do (a page, a safe action, a work
 * order, a ticket) instead of calling a pager, a device or a ticketing system, and their names say so
 * (`offline/...`). Only the diagnoser has a model path ({@link ModelIncidentDiagnoser}, a model chain
 * with these rules as its non-LLM fallback).
 */
export interface IncidentEnricher {
  readonly name: string;
  enrich(input: IncidentTaskInput): Promise<IncidentEnriched>;
}
/** A diagnosis, and the usage of the model call behind it when a model chain was asked (for the workflow's budget). */
export type MeteredDiagnosis = IncidentDiagnosed & { modelUsage?: ModelUsage };
export interface IncidentDiagnoser {
  readonly name: string;
  /** `options`: per-call model options (the offline rules ignore them). */
  diagnose(input: IncidentTaskInput, options?: ModelCallOptions): Promise<MeteredDiagnosis>;
}
export interface OncallPager {
  readonly name: string;
  page(input: IncidentTaskInput): Promise<OncallPaged>;
}
export interface SafeActionTaker {
  readonly name: string;
  apply(input: IncidentTaskInput): Promise<SafeActionApplied>;
}
export interface FixRemediator {
  readonly name: string;
  execute(input: IncidentTaskInput): Promise<FixExecuted>;
}
export interface IncidentEscalator {
  readonly name: string;
  escalate(input: IncidentTaskInput): Promise<IncidentEscalated>;
}
export interface IncidentReporter {
  readonly name: string;
  report(input: IncidentTaskInput): Promise<IncidentReported>;
}

/** Every incident agent the agents app hosts. */
export interface IncidentAgents {
  enricher: IncidentEnricher;
  diagnoser: IncidentDiagnoser;
  pager: OncallPager;
  safeAction: SafeActionTaker;
  remediator: FixRemediator;
  escalator: IncidentEscalator;
  reporter: IncidentReporter;
}

/** The event type each agent answers with. */
export const INCIDENT_RESULT_TYPES = {
  enricher: INCIDENT_ENRICHED,
  diagnoser: INCIDENT_DIAGNOSED,
  pager: ONCALL_PAGED,
  safeAction: SAFE_ACTION_APPLIED,
  remediator: FIX_EXECUTED,
  escalator: INCIDENT_ESCALATED,
  reporter: INCIDENT_REPORTED,
} as const;

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Device history from the data set: the robust baseline (median, MAD) of the `historyReadings` readings
 * before the alert, and how many earlier anomaly episodes the detector found for the mote.
 */
export class DatasetHistoryEnricher implements IncidentEnricher {
  readonly name = 'offline/dataset-history';
  private readonly byMote: Map<number, SensorReading[]>;
  private readonly episodesByMote = new Map<number, number[]>();

  constructor(
    readings: readonly SensorReading[],
    private readonly historyReadings = DEFAULT_ROBUST_Z_OPTIONS.windowReadings,
  ) {
    this.byMote = readingsByMote(readings);
    for (const alert of detectAlerts(readings).alerts) {
      this.episodesByMote.set(alert.moteId, [...(this.episodesByMote.get(alert.moteId) ?? []), alert.firstReading]);
    }
  }

  async enrich({ alert }: IncidentTaskInput): Promise<IncidentEnriched> {
    const history = (this.byMote.get(alert.moteId) ?? []).filter((r) => r.reading < alert.firstReading).slice(-this.historyReadings);
    const baseline = (values: number[]) => (values.length === 0 ? { median: 0, mad: 0 } : robustBaseline(values));
    return {
      moteId: alert.moteId,
      historyReadings: history.length,
      baseline: { humidity: baseline(history.map((r) => r.humidity)), temperature: baseline(history.map((r) => r.temperature)) },
      priorEpisodes: (this.episodesByMote.get(alert.moteId) ?? []).filter((first) => first < alert.firstReading).length,
      enricher: this.name,
    };
  }
}

/**
 * Rule-based diagnosis (offline stand-in for a model): the change against the baseline per channel
 * names the cause; severity follows the alert; a warning of at most two readings is transient; the fix
 * is an enclosure inspection for a critical alert, a sensor replacement after two earlier episodes,
 * a recalibration otherwise.
 */
export class RuleIncidentDiagnoser implements IncidentDiagnoser {
  readonly name = 'offline/rules';

  async diagnose({ alert, enrichment }: IncidentTaskInput): Promise<IncidentDiagnosed> {
    const humidityChange = enrichment === null ? null : round(alert.peak.humidity - enrichment.baseline.humidity.median);
    const temperatureChange = enrichment === null ? null : round(alert.peak.temperature - enrichment.baseline.temperature.median);
    const both = alert.channels.length === 2;
    const change = `humidity ${humidityChange === null ? 'n/a' : `${humidityChange >= 0 ? '+' : ''}${humidityChange} % RH`}, temperature ${temperatureChange === null ? 'n/a' : `${temperatureChange >= 0 ? '+' : ''}${temperatureChange} °C`} against the ${enrichment?.historyReadings ?? 0}-reading baseline`;
    const cause = both
      ? `Humidity and temperature left their baseline together at mote ${alert.moteId} (${change}) for ${alert.flaggedReadings} readings: an external heat or moisture source at the mote, not a single failing sensor.`
      : `Only ${alert.channels[0]} left its baseline at mote ${alert.moteId} (${change}) for ${alert.flaggedReadings} readings: a sensor fault or drift is likely.`;
    const transient = alert.severity === 'warning' && alert.flaggedReadings <= 2;
    const action = transient ? 'none' : alert.severity === 'critical' ? 'inspect-enclosure' : (enrichment?.priorEpisodes ?? 0) >= 2 ? 'replace-sensor' : 'recalibrate-sensor';
    const description = {
      none: 'No fix: a short blip; keep watching the mote.',
      'inspect-enclosure': `Send a technician to mote ${alert.moteId} (${alert.indoor ? 'indoor' : 'outdoor'}): find and remove the heat or moisture source, check the enclosure is sealed.`,
      'replace-sensor': `Replace the SHT11 sensor of mote ${alert.moteId}: it has had ${enrichment?.priorEpisodes ?? 0} earlier episodes.`,
      'recalibrate-sensor': `Recalibrate the ${alert.channels.join(' and ')} channel of mote ${alert.moteId} against a reference.`,
    }[action];
    return {
      severity: alert.severity,
      cause,
      transient,
      proposedFix: { action, description },
      confidence: both ? 0.85 : 0.6,
      diagnoser: this.name,
      inputTokens: null,
      outputTokens: null,
    };
  }
}

/** Records a page to the configured on-call rota (no pager service is called). */
export class RecordingPager implements OncallPager {
  readonly name = 'offline/recorded-page';
  constructor(
    private readonly onCall: string,
    private readonly now: () => Date,
  ) {}

  async page({ workflowId }: IncidentTaskInput): Promise<OncallPaged> {
    return { pageId: `page-${workflowId}`, onCall: this.onCall, pagedAt: this.now().toISOString(), pager: this.name };
  }
}

/** Records the safe action for a critical alert: the mote's readings are marked suspect (reversible; nothing is switched off). */
export class RecordingSafeAction implements SafeActionTaker {
  readonly name = 'offline/recorded-safe-action';
  constructor(private readonly now: () => Date) {}

  async apply({ alert }: IncidentTaskInput): Promise<SafeActionApplied> {
    return {
      action: 'quarantine-readings',
      detail: `Readings of mote ${alert.moteId} from reading ${alert.firstReading} on are marked suspect for downstream consumers until the incident closes.`,
      appliedAt: this.now().toISOString(),
      actor: this.name,
    };
  }
}

/**
 * Records a work order for the approved fix and checks the outcome against the data set: the fix
 * counts as having worked when the median |robust z| of the `checkReadings` readings after the alert,
 * against the pre-alert baseline, is back under the detector's threshold on every channel.
 */
export class DatasetCheckedRemediator implements FixRemediator {
  readonly name = 'offline/work-order-checked-against-dataset';
  private readonly byMote: Map<number, SensorReading[]>;

  constructor(
    readings: readonly SensorReading[],
    private readonly checkReadings = 60,
  ) {
    this.byMote = readingsByMote(readings);
  }

  async execute({ workflowId, alert, enrichment, diagnosis, fixInstructions }: IncidentTaskInput): Promise<FixExecuted> {
    const after = (this.byMote.get(alert.moteId) ?? []).filter((r) => r.reading > alert.lastReading).slice(0, this.checkReadings);
    const base = { workOrderId: `wo-${workflowId}`, action: diagnosis?.proposedFix.action ?? 'unknown', instructions: fixInstructions ?? '', remediator: this.name };
    if (enrichment === null || after.length === 0) return { ...base, succeeded: false, detail: 'No readings after the alert (or no baseline) to confirm the fix.' };
    const medianAbsZ = (channel: 'humidity' | 'temperature'): number => {
      const { median, mad } = enrichment.baseline[channel];
      const scale = Math.max(mad, DEFAULT_ROBUST_Z_OPTIONS.madFloor[channel]);
      return robustBaseline(after.map((r) => Math.abs((0.6745 * (r[channel] - median)) / scale))).median;
    };
    const humidity = round(medianAbsZ('humidity'));
    const temperature = round(medianAbsZ('temperature'));
    const succeeded = humidity <= DEFAULT_ROBUST_Z_OPTIONS.threshold && temperature <= DEFAULT_ROBUST_Z_OPTIONS.threshold;
    return {
      ...base,
      succeeded,
      detail: `Median |robust z| of the ${after.length} readings after the alert: humidity ${humidity}, temperature ${temperature} (threshold ${DEFAULT_ROBUST_Z_OPTIONS.threshold}): ${succeeded ? 'back to baseline' : 'not back to baseline'}.`,
    };
  }
}

/** Records an engineering ticket (no ticketing system is called). */
export class RecordingEscalator implements IncidentEscalator {
  readonly name = 'offline/recorded-ticket';

  async escalate({ workflowId, alert, fix, decision }: IncidentTaskInput): Promise<IncidentEscalated> {
    const reason =
      fix !== null && !fix.succeeded
        ? `The fix did not work: ${fix.detail}`
        : decision?.decision === 'rejected'
          ? `The proposed fix was rejected by ${decision.approverId}${decision.comment === null ? '' : `: ${decision.comment}`}`
          : `Mote ${alert.moteId} needs engineering`;
    return { ticketId: `ticket-${workflowId}`, reason, escalator: this.name };
  }
}

/** The final incident report from a template, joining every branch the workflow took. */
export class TemplateIncidentReporter implements IncidentReporter {
  readonly name = 'offline/template-report';

  async report(input: IncidentTaskInput): Promise<IncidentReported> {
    const { alert, enrichment, diagnosis, page, safeAction, decision, fix, escalation, fixInstructions } = input;
    const outcome = escalation !== null ? 'escalated' : fix?.succeeded === true ? 'fixed' : diagnosis?.transient === true ? 'monitored' : 'open';
    const lines = [
      `Alert ${alert.alertId}: mote ${alert.moteId} (${alert.indoor ? 'indoor' : 'outdoor'}), readings ${alert.firstReading}-${alert.lastReading}, ${alert.flaggedReadings} flagged on ${alert.channels.join(' and ')}, peak |z| ${alert.peakRobustZ} (${alert.detector}), severity ${alert.severity}.`,
      enrichment === null ? 'History: none.' : `History: ${enrichment.historyReadings} readings; baseline humidity ${round(enrichment.baseline.humidity.median)} % RH, temperature ${round(enrichment.baseline.temperature.median)} °C; ${enrichment.priorEpisodes} earlier episodes.`,
      diagnosis === null ? 'Diagnosis: none.' : `Diagnosis (${diagnosis.diagnoser}, ${Math.round(diagnosis.confidence * 100)}%): ${diagnosis.cause} Proposed: ${diagnosis.proposedFix.action}.`,
      page === null ? 'On-call: not paged.' : `On-call: ${page.onCall} paged at ${page.pagedAt} (${page.pageId}).`,
      safeAction === null ? 'Safe action: none.' : `Safe action: ${safeAction.action} at ${safeAction.appliedAt}. ${safeAction.detail}`,
      decision === null ? 'Decision: none needed.' : `Decision: ${decision.decision} by ${decision.approverId}${decision.comment === null ? '' : ` (${decision.comment})`}.`,
      fix === null ? 'Fix: not run.' : `Fix: work order ${fix.workOrderId} "${fixInstructions ?? fix.instructions}": ${fix.detail}`,
      escalation === null ? 'Escalation: none.' : `Escalation: ${escalation.ticketId}: ${escalation.reason}`,
    ];
    return { title: `[${alert.severity}] mote ${alert.moteId} ${alert.channels.join('+')} anomaly: ${outcome}`, body: lines.join('\n'), reporter: this.name };
  }
}
