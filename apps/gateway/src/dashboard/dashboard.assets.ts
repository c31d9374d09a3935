import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderDashboardPage } from './dashboard.page';

/** Injection token of the dashboard's page and script, read once at boot. */
export const DASHBOARD_ASSETS = Symbol('DASHBOARD_ASSETS');

/** The dashboard's HTML and its browser script (UTF-8 text). */
export interface DashboardAssets {
  html: string;
  script: string;
}

/** File name of the browser script, beside this file in the sources and under `dashboard/` in a build. */
export const DASHBOARD_SCRIPT_FILE = 'dashboard.client.js';

/**
 * Renders the page and reads the script: from this folder when running the TypeScript sources, from
 * `<bundle dir>/dashboard/` in a Nest build (nest-cli.json copies it there as an asset).
 *
 * `readText` reads a UTF-8 file and throws an `ENOENT` error for a missing one (default: `readFileSync`).
 *
 * @throws Error naming every place looked in when the script is missing.
 */
export function loadDashboardAssets(directory: string = __dirname, readText: (file: string) => string = (file) => readFileSync(file, 'utf8')): DashboardAssets {
  const candidates = [path.join(directory, DASHBOARD_SCRIPT_FILE), path.join(directory, 'dashboard', DASHBOARD_SCRIPT_FILE)];
  for (const candidate of candidates) {
    try {
      return { html: renderDashboardPage(), script: readText(candidate) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error(`dashboard script not found; looked in ${candidates.join(', ')}`);
}
