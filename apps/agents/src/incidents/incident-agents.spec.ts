import { describe, expect, it } from 'vitest';
import { IncidentTaskInput } from '@troupe/contracts';
import { detectAlerts, loadSuthaharanReadings } from '@troupe/sensor-data';
import { incidentTaskInput, incidentResponseMachine } from '@troupe/statecharts';
import { initialTransition } from 'xstate';
import {
  DatasetCheckedRemediator,
  DatasetHistoryEnricher,
  RecordingEscalator,
  RuleIncidentDiagnoser,
  TemplateIncidentReporter,
} from './incident-agents';

const readings = loadSuthaharanReadings();
const [alert] = detectAlerts(readings).alerts;
const base = (): IncidentTaskInput => {
  const [snapshot] = initialTransition(incidentResponseMachine, { workflowId: 'incident-t', alert, approvalTimeoutMs: 1, escalationTimeoutMs: 1 });
  return IncidentTaskInput.parse(incidentTaskInput(snapshot.context));
};

describe('offline incident agents', () => {
  it('enriches with the robust baseline of the readings before the alert', async () => {
    const enrichment = await new DatasetHistoryEnricher(readings).enrich(base());
    expect(enrichment).toMatchObject({ moteId: 1, historyReadings: 120, priorEpisodes: 0 });
    expect(enrichment.baseline.humidity.median).toBeGreaterThan(40);
    expect(enrichment.baseline.humidity.median).toBeLessThan(50);
  });

  it('diagnoses a critical two-channel alert as an external source, with an enclosure inspection', async () => {
    const input = { ...base(), enrichment: await new DatasetHistoryEnricher(readings).enrich(base()) };
    const diagnosis = await new RuleIncidentDiagnoser().diagnose(input);
    expect(diagnosis).toMatchObject({ severity: 'critical', transient: false, proposedFix: { action: 'inspect-enclosure' }, diagnoser: 'offline/rules' });
    expect(diagnosis.cause).toContain('heat or moisture source');
  });

  it('calls a one-reading warning transient, and a longer one-channel warning a recalibration', async () => {
    const diagnoser = new RuleIncidentDiagnoser();
    const blip = { ...base(), alert: { ...alert, severity: 'warning' as const, flaggedReadings: 1, channels: ['humidity' as const] } };
    expect(await diagnoser.diagnose(blip)).toMatchObject({ transient: true, proposedFix: { action: 'none' } });
    expect(await diagnoser.diagnose({ ...blip, alert: { ...blip.alert, flaggedReadings: 5 } })).toMatchObject({ transient: false, proposedFix: { action: 'recalibrate-sensor' } });
  });

  it('confirms the fix when the readings after the alert are back to baseline, and not without a baseline', async () => {
    const enrichment = await new DatasetHistoryEnricher(readings).enrich(base());
    const remediator = new DatasetCheckedRemediator(readings);
    const fix = await remediator.execute({ ...base(), enrichment, fixInstructions: 'inspect' });
    expect(fix.detail).toMatch(/Median \|robust z\|/);
    expect(fix).toMatchObject({ succeeded: true, workOrderId: 'wo-incident-t', instructions: 'inspect' });
    expect((await remediator.execute(base())).succeeded).toBe(false);
  });

  it('writes a report that joins every branch', async () => {
    const input = { ...base(), escalation: await new RecordingEscalator().escalate({ ...base(), decision: { decision: 'rejected' as const, approverId: 'alice', comment: 'no' } }) };
    const report = await new TemplateIncidentReporter().report(input);
    expect(report.title).toBe('[critical] mote 1 humidity+temperature anomaly: escalated');
    expect(report.body).toContain('rejected by alice: no');
    expect(report.body.split('\n')).toHaveLength(8);
  });
});
