import { describe, expect, it } from 'vitest';
import { detectAlerts, evaluateDetection, labelledEvents, loadSuthaharanReadings, robustBaseline, scoreMoteReadings, type SensorReading } from '@troupe/sensor-data';

const flat = (count: number, overrides: (i: number) => Partial<SensorReading> = () => ({})): SensorReading[] =>
  Array.from({ length: count }, (_, i) => ({ reading: i + 1, moteId: 9, indoor: true, humidity: 40 + (i % 3) * 0.01, temperature: 25, label: 0 as const, ...overrides(i) }));

describe('robust z-score detector', () => {
  it('computes the median and the median absolute deviation', () => {
    expect(robustBaseline([1, 2, 3, 4, 100])).toEqual({ median: 3, mad: 1 });
    expect(() => robustBaseline([])).toThrow(RangeError);
  });

  it('flags a jump well outside the window and not the readings around it', () => {
    const readings = flat(100, (i) => (i === 60 ? { humidity: 55 } : {}));
    const scored = scoreMoteReadings(readings);
    expect(scored.filter((s) => s.flagged).map((s) => s.reading.reading)).toEqual([61]);
    expect(scored[10].z.humidity).toBeNull();
  });

  it('keeps a long event out of its own baseline, and accepts a lasting new level after the exclusion limit', () => {
    const readings = flat(600, (i) => (i >= 100 ? { temperature: 35 } : {}));
    const flagged = scoreMoteReadings(readings).filter((s) => s.flagged).map((s) => s.reading.reading);
    expect(flagged[0]).toBe(101);
    expect(flagged).toHaveLength(360);
  });

  it('groups flagged readings into one alert per episode, critical when long or extreme', () => {
    const readings = flat(200, (i) => (i >= 50 && i < 70 ? { humidity: 60 } : i === 150 ? { humidity: 43.5 } : {}));
    const { alerts } = detectAlerts(readings);
    expect(alerts.map((a) => [a.alertId, a.severity, a.flaggedReadings])).toEqual([
      ['mote9-r51', 'critical', 20],
      ['mote9-r151', 'warning', 1],
    ]);
    expect(alerts[0].channels).toEqual(['humidity']);
    expect(JSON.stringify(alerts)).not.toContain('label');
  });

  it('finds both introduced events of the Suthaharan data set', () => {
    const readings = loadSuthaharanReadings();
    expect(readings).toHaveLength(18_914);
    const events = labelledEvents(readings);
    expect(events).toEqual([
      { moteId: 1, firstReading: 2344, lastReading: 2460 },
      { moteId: 4, firstReading: 2362, lastReading: 2393 },
    ]);
    const { alerts, scored } = detectAlerts(readings);
    const evaluation = evaluateDetection(scored, alerts, readings);
    expect(evaluation.events.recall).toBe(1);
    expect(evaluation.readings.recall).toBeGreaterThan(0.9);
    expect(evaluation.readings.truePositives + evaluation.readings.falseNegatives).toBe(149);
  });
});
