import type { SensorAlert } from '@troupe/contracts';
import type { ScoredReading } from './robust-z-detector';
import { readingsByMote, type SensorReading } from './suthaharan';

/** Precision and recall of one kind of detection; both are 0 when undefined (no positives). */
export interface PrecisionRecall {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

function precisionRecall(truePositives: number, falsePositives: number, falseNegatives: number): PrecisionRecall {
  return {
    truePositives,
    falsePositives,
    falseNegatives,
    precision: truePositives + falsePositives === 0 ? 0 : truePositives / (truePositives + falsePositives),
    recall: truePositives + falseNegatives === 0 ? 0 : truePositives / (truePositives + falseNegatives),
  };
}

/** A run of consecutive labelled readings of one mote: one introduced event. */
export interface LabelledEvent {
  moteId: number;
  firstReading: number;
  lastReading: number;
}

/** The introduced events of the data set: maximal runs of readings labelled 1, per mote. */
export function labelledEvents(readings: readonly SensorReading[]): LabelledEvent[] {
  const events: LabelledEvent[] = [];
  for (const [moteId, list] of readingsByMote(readings)) {
    let current: LabelledEvent | null = null;
    for (const reading of list) {
      if (reading.label === 1 && current !== null && current.lastReading === reading.reading - 1) current.lastReading = reading.reading;
      else if (reading.label === 1) events.push((current = { moteId, firstReading: reading.reading, lastReading: reading.reading }));
      else current = null;
    }
  }
  return events;
}

/** Detection quality against the data set's labels. */
export interface DetectionEvaluation {
  /** Per reading: flagged vs labelled 1. */
  readings: PrecisionRecall;
  /** Per alert and event: an alert is right when it overlaps a labelled event; an event is found when an alert overlaps it. */
  events: PrecisionRecall;
  labelledEvents: number;
  alerts: number;
}

const overlaps = (alert: SensorAlert, event: LabelledEvent): boolean =>
  alert.moteId === event.moteId && alert.firstReading <= event.lastReading && event.firstReading <= alert.lastReading;

/** Scores the detector's flags and alerts against the labels (the labels never reach the workflows). */
export function evaluateDetection(scored: readonly ScoredReading[], alerts: readonly SensorAlert[], readings: readonly SensorReading[]): DetectionEvaluation {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const { reading, flagged } of scored) {
    if (flagged && reading.label === 1) tp += 1;
    else if (flagged) fp += 1;
    else if (reading.label === 1) fn += 1;
  }
  const events = labelledEvents(readings);
  const rightAlerts = alerts.filter((alert) => events.some((event) => overlaps(alert, event))).length;
  const foundEvents = events.filter((event) => alerts.some((alert) => overlaps(alert, event))).length;
  return {
    readings: precisionRecall(tp, fp, fn),
    events: { ...precisionRecall(rightAlerts, alerts.length - rightAlerts, events.length - foundEvents), recall: events.length === 0 ? 0 : foundEvents / events.length },
    labelledEvents: events.length,
    alerts: alerts.length,
  };
}
