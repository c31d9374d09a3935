import type { ChannelBaseline, SensorAlert, SensorChannel } from '@troupe/contracts';
import { SUTHAHARAN_DATASET, readingsByMote, type SensorReading } from './suthaharan';

/**
 * Anomaly detection by robust z-score over a rolling window, per mote and channel.
 *
 * The modified z-score of a reading x against the window's median m and median absolute deviation MAD
 * is `0.6745 · (x − m) / MAD` (Iglewicz and Hoaglin, "How to Detect and Handle Outliers", ASQC Basic
 * References in Quality Control vol. 16, 1993; 0.6745 is the 0.75 quantile of the standard normal, so the
 * score is in standard deviations for normal data). They suggest flagging |z| > 3.5 for independent
 * samples; these readings are strongly autocorrelated and drift slowly, so the default threshold is 8.
 * Three departures from the textbook method, each to keep a slow drift or a long event from fooling it:
 * the window holds the previous `windowReadings` readings that were not flagged (an event does not
 * become its own baseline), MAD has a floor per channel (a flat window would make any change infinite),
 * and after `maxExcludedReadings` flagged readings in a row the window restarts from the current
 * readings (a lasting change of level is accepted as the new normal instead of flagged forever).
 *
 * The defaults were chosen by looking at this same data set, so the precision and recall the demo prints
 * are in-sample figures, not a held-out estimate.
 */
export interface RobustZOptions {
  /** Unflagged readings in the rolling window (default 120: 10 min at one reading per 5 s). */
  windowReadings: number;
  /** Readings of history needed before a reading is scored (default 30). */
  minHistoryReadings: number;
  /** |z| above this flags a reading (default 8). */
  threshold: number;
  /** Floor of MAD per channel, in the channel's unit (default 0.2 % RH and 0.2 °C). */
  madFloor: Record<SensorChannel, number>;
  /** Flagged readings in a row after which the window restarts (default 360: 30 min). */
  maxExcludedReadings: number;
  /** Unflagged readings that end an episode (default 12: 1 min); shorter gaps join one alert. */
  episodeGapReadings: number;
  /** An alert is critical when its peak |z| reaches this (default 20) … */
  criticalRobustZ: number;
  /** … or when it lasts at least this many readings (default 12: 1 min). */
  criticalReadings: number;
}

/** The defaults of {@link RobustZOptions}. */
export const DEFAULT_ROBUST_Z_OPTIONS: RobustZOptions = {
  windowReadings: 120,
  minHistoryReadings: 30,
  threshold: 8,
  madFloor: { humidity: 0.2, temperature: 0.2 },
  maxExcludedReadings: 360,
  episodeGapReadings: 12,
  criticalRobustZ: 20,
  criticalReadings: 12,
};

/** The detector's name in alerts, e.g. `robust-z/mad-w120-t8`. */
export function detectorName(options: RobustZOptions = DEFAULT_ROBUST_Z_OPTIONS): string {
  return `robust-z/mad-w${options.windowReadings}-t${options.threshold}`;
}

/** One reading with its robust z-score per channel (null before enough history) and whether it was flagged. */
export interface ScoredReading {
  reading: SensorReading;
  z: Record<SensorChannel, number | null>;
  flagged: boolean;
}

const CHANNELS: SensorChannel[] = ['humidity', 'temperature'];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Median and median absolute deviation of `values`, in their unit.
 *
 * @throws RangeError when `values` is empty.
 */
export function robustBaseline(values: readonly number[]): ChannelBaseline {
  if (values.length === 0) throw new RangeError('a baseline needs at least one value');
  const m = median(values);
  return { median: m, mad: median(values.map((value) => Math.abs(value - m))) };
}

/** Scores one mote's readings (in reading order) with the rolling robust z-score. */
export function scoreMoteReadings(readings: readonly SensorReading[], options: RobustZOptions = DEFAULT_ROBUST_Z_OPTIONS): ScoredReading[] {
  let window: SensorReading[] = [];
  let flaggedInRow = 0;
  const scored: ScoredReading[] = [];
  for (const reading of readings) {
    const z: Record<SensorChannel, number | null> = { humidity: null, temperature: null };
    let flagged = false;
    if (window.length >= options.minHistoryReadings) {
      for (const channel of CHANNELS) {
        const baseline = robustBaseline(window.map((r) => r[channel]));
        z[channel] = (0.6745 * (reading[channel] - baseline.median)) / Math.max(baseline.mad, options.madFloor[channel]);
        if (Math.abs(z[channel]) > options.threshold) flagged = true;
      }
    }
    scored.push({ reading, z, flagged });
    if (flagged) {
      flaggedInRow += 1;
      if (flaggedInRow >= options.maxExcludedReadings) {
        window = [];
        flaggedInRow = 0;
      }
      continue;
    }
    flaggedInRow = 0;
    window.push(reading);
    if (window.length > options.windowReadings) window.shift();
  }
  return scored;
}

/** What {@link detectAlerts} found: the alerts (one per episode) and every reading's score. */
export interface Detection {
  alerts: SensorAlert[];
  scored: ScoredReading[];
}

/**
 * Turns readings into alerts: scores each mote's readings and groups flagged readings into episodes
 * (gaps of fewer than `episodeGapReadings` unflagged readings join), one alert per episode, with id
 * `mote<id>-r<firstReading>`. Alerts are sorted by mote, then first reading; they never carry labels.
 */
export function detectAlerts(readings: readonly SensorReading[], options: RobustZOptions = DEFAULT_ROBUST_Z_OPTIONS): Detection {
  const alerts: SensorAlert[] = [];
  const scored: ScoredReading[] = [];
  for (const [moteId, moteReadings] of [...readingsByMote(readings).entries()].sort((a, b) => a[0] - b[0])) {
    const moteScores = scoreMoteReadings(moteReadings, options);
    scored.push(...moteScores);
    let episode: ScoredReading[] = [];
    let gap = 0;
    const close = (): void => {
      if (episode.length > 0) alerts.push(alertOf(moteId, episode, options));
      episode = [];
    };
    for (const score of moteScores) {
      if (score.flagged) {
        episode.push(score);
        gap = 0;
      } else if (episode.length > 0 && ++gap >= options.episodeGapReadings) {
        close();
      }
    }
    close();
  }
  return { alerts, scored };
}

function peakOf(score: ScoredReading): number {
  return Math.max(...CHANNELS.map((channel) => Math.abs(score.z[channel] ?? 0)));
}

function alertOf(moteId: number, episode: ScoredReading[], options: RobustZOptions): SensorAlert {
  const peak = episode.reduce((best, score) => (peakOf(score) > peakOf(best) ? score : best));
  const first = episode[0].reading;
  const last = episode[episode.length - 1].reading;
  const channels = CHANNELS.filter((channel) => episode.some((score) => Math.abs(score.z[channel] ?? 0) > options.threshold));
  const peakRobustZ = Math.round(peakOf(peak) * 100) / 100;
  const span = last.reading - first.reading + 1;
  return {
    alertId: `mote${moteId}-r${first.reading}`,
    moteId,
    indoor: first.indoor,
    firstReading: first.reading,
    lastReading: last.reading,
    flaggedReadings: episode.length,
    channels,
    peakRobustZ,
    peak: { reading: peak.reading.reading, humidity: peak.reading.humidity, temperature: peak.reading.temperature },
    severity: peakRobustZ >= options.criticalRobustZ || span >= options.criticalReadings ? 'critical' : 'warning',
    detector: detectorName(options),
    origin: { dataset: SUTHAHARAN_DATASET, mote: String(moteId), firstReading: String(first.reading) },
  };
}
