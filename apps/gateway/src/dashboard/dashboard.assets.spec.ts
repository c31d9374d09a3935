import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDashboardAssets } from './dashboard.assets';
import { DASHBOARD_SCRIPT_PATH } from './dashboard.page';

describe('loadDashboardAssets', () => {
  it('renders the page that loads the script, and reads the script beside the sources', () => {
    const assets = loadDashboardAssets(__dirname);
    expect(assets.html).toMatch(/^<!doctype html>/);
    expect(assets.html).toContain(`<script src="${DASHBOARD_SCRIPT_PATH}" defer></script>`);
    expect(assets.html).toContain('id="login-form"');
    expect(assets.script).toContain("sessionStorage.getItem(KEY_STORAGE)");
  });

  it('names every place it looked in when the script is missing', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'troupe-dashboard-'));
    expect(() => loadDashboardAssets(empty)).toThrow(new RegExp(`looked in ${empty}/dashboard.client.js, ${empty}/dashboard/dashboard.client.js`));
  });
});
