import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDashboardAssets } from './dashboard.assets';
import { DASHBOARD_SCRIPT_PATH } from './dashboard.page';

/** A file system holding only `files`; anything else is ENOENT. */
const filesOnly = (files: Record<string, string>) => (file: string) => {
  if (file in files) return files[file];
  throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
};

describe('loadDashboardAssets', () => {
  it('renders the page that loads the script, and reads the script beside the sources', () => {
    const assets = loadDashboardAssets('/src/dashboard', filesOnly({ '/src/dashboard/dashboard.client.js': 'script()' }));
    expect(assets.html).toMatch(/^<!doctype html>/);
    expect(assets.html).toContain(`<script src="${DASHBOARD_SCRIPT_PATH}" defer></script>`);
    expect(assets.html).toContain('id="login-form"');
    expect(assets.script).toBe('script()');
  });

  it('reads the script from dashboard/ beside a Nest bundle', () => {
    expect(loadDashboardAssets('/dist/apps/gateway', filesOnly({ [path.join('/dist/apps/gateway', 'dashboard', 'dashboard.client.js')]: 'bundled()' })).script).toBe('bundled()');
  });

  it('names every place it looked in when the script is missing, and rethrows other read errors', () => {
    expect(() => loadDashboardAssets('/empty', filesOnly({}))).toThrow('dashboard script not found; looked in /empty/dashboard.client.js, /empty/dashboard/dashboard.client.js');
    expect(() =>
      loadDashboardAssets('/locked', () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      }),
    ).toThrow('EACCES');
  });
});
