import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusSplit, loadSpamAssassinCorpus, parseCorpusEmail, type CorpusEmail } from '@troupe/email-corpus';
import { createPersistence } from '@troupe/persistence';
import { pollJson, publishEmails, startTroupeStack, type TroupeStack } from '@troupe/testing';
import { HeaderRuleRouter } from '../../apps/supervisor/src/routing/header-rule-router';

// The dashboard in real headless Chromium (Debian's package) against the four apps on a real nats-server:
// sign in with the stack's approver API key, find a drafted reply in the inbox, approve it through the page, and see the
// workflow reach `sent`; then edit-and-send another one, and leave a third pending for a viewer to see.

const CHROMIUM = process.env.TROUPE_CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The screenshot kept as the test's artifact. */
const SCREENSHOT = path.resolve(__dirname, '..', '..', '.troupe', 'artifacts', 'dashboard.png');

interface WorkflowView {
  stateValue: unknown;
  context: { finalReplyBody?: string | null } | null;
  journal: Array<{ eventType: string; event: { payload?: { approver?: { id: string }; decision?: string } } }>;
}

describe('the dashboard in headless Chromium', () => {
  let stack: TroupeStack;
  let browser: Browser;
  let page: Page;
  let drafted: string[];
  let all: string[];

  beforeAll(async () => {
    stack = await startTroupeStack();
    const test = corpusSplit(loadSpamAssassinCorpus(), 'test');
    const router = new HeaderRuleRouter();
    const toDraft: CorpusEmail[] = [];
    for (const email of test.filter((e) => e.label === 'ham')) {
      if ((await router.route(await parseCorpusEmail(email))).route === 'draft_reply') toDraft.push(email);
      if (toDraft.length === 3) break;
    }
    drafted = await publishEmails(stack, 'dash-draft', toDraft);
    const others = await publishEmails(stack, 'dash-other', [...test.filter((e) => e.label === 'spam').slice(0, 3), ...test.filter((e) => e.group === 'easy-ham-1').slice(0, 3)]);
    all = [...drafted, ...others];
    expect(await stack.tracker.waitFor(() => stack.tracker.progress().settled === all.length, 120_000), `not settled; logs in ${stack.logDir}`).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('asks for an API key, then shows the fleet by state and the approval inbox', async () => {
    await page.goto(`${stack.gatewayUrl}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#api-key', stack.apiKeys.approver);
    await page.click('#login-form button[type=submit]');
    await page.locator('#identity', { hasText: 'e2e-approver' }).waitFor();
    await page.locator(`#fleet-rows tr[data-workflow-id="${drafted[0]}"]`).waitFor();
    const counts = await page.locator('#fleet-counts .count').evaluateAll((chips) => Object.fromEntries(chips.map((chip) => [chip.getAttribute('data-state'), Number(chip.querySelector('b')?.textContent)])) as Record<string, number>);
    expect(counts.awaitingApproval).toBe(3);
    expect(counts.quarantined).toBeGreaterThan(0);
    // The fleet holds every actor: the 9 triage workflows and the supervisor routings and agent runs they started.
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(await page.locator('#fleet-rows tr').count());
    for (const workflowId of all) await page.locator(`#fleet-rows tr[data-workflow-id="${workflowId}"]`).waitFor();
    for (const workflowId of drafted) await page.locator(`#inbox-items .card[data-workflow-id="${workflowId}"]`).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('troupe.apiKey'))).toBe(stack.apiKeys.approver);
  });

  it('draws the selected workflow\'s statechart with the current state highlighted, and its journal', async () => {
    await page.click(`#inbox-items .card[data-workflow-id="${drafted[0]}"] a`);
    await page.locator('#chart svg g.state.current[data-state="awaitingApproval"]').waitFor();
    expect(await page.locator('#chart svg g.state').count()).toBeGreaterThanOrEqual(12);
    expect(await page.locator('#chart svg g.state.current').count()).toBe(1);
    expect(await page.locator('#journal li b').allTextContents()).toEqual(['#1 email.received', '#2 email.classified', '#3 email.routed', '#4 reply.drafted']);
  });

  it('approves a pending reply through the page, and the workflow reaches sent', async () => {
    const card = page.locator(`#inbox-items .card[data-workflow-id="${drafted[0]}"]`);
    await card.locator('button.approve').click();
    await page.locator('#workflow-state[data-state="sent"]').waitFor({ timeout: 30_000 });
    await page.locator('#chart svg g.state.current[data-state="sent"]').waitFor();
    await card.waitFor({ state: 'detached' });
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${drafted[0]}`, (body) => body.stateValue === 'sent', 1_000, stack.headers());
    expect(view.stateValue).toBe('sent');
    const decided = view.journal.find((entry) => entry.eventType === 'approval.decided');
    expect(decided?.event.payload).toMatchObject({ decision: 'approved', approver: { id: 'e2e-approver' } });
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('sends the text as edited in the inbox', async () => {
    const card = page.locator(`#inbox-items .card[data-workflow-id="${drafted[1]}"]`);
    const edited = 'Thank you for writing. A colleague will answer by Friday.\n-- edited in the dashboard';
    await card.locator('textarea').fill(edited);
    await card.locator('button.edit').click();
    await card.waitFor({ state: 'detached', timeout: 30_000 });
    const view = await pollJson<WorkflowView>(`${stack.gatewayUrl}/workflows/${drafted[1]}`, (body) => body.stateValue === 'sent', 30_000, stack.headers());
    expect(view.stateValue).toBe('sent');
    expect(view.context?.finalReplyBody).toBe(edited);
    const persistence = await createPersistence({ nats: stack.connection });
    const sent = (await persistence.sentMail.list()).filter((record) => record.workflowId === drafted[1]);
    await persistence.close();
    expect(sent.map((record) => record.body)).toEqual([edited]);
  });

  it('shows a viewer the inbox with the decisions disabled', async () => {
    const viewer = await browser.newPage();
    await viewer.goto(`${stack.gatewayUrl}/dashboard`);
    await viewer.fill('#api-key', stack.apiKeys.viewer);
    await viewer.click('#login-form button[type=submit]');
    await viewer.locator('#identity', { hasText: 'e2e-viewer' }).waitFor();
    const card = viewer.locator(`#inbox-items .card[data-workflow-id="${drafted[2]}"]`);
    await card.waitFor();
    expect(await card.locator('button').evaluateAll((buttons) => buttons.map((button) => (button as unknown as { disabled: boolean }).disabled))).toEqual([true, true, true]);
    expect(await card.locator('.outcome').textContent()).toBe('Your roles (viewer) may not decide at this gate.');
    await viewer.close();
  });

  it('asks again for a key the gateway refuses', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${stack.gatewayUrl}/dashboard`);
    await fresh.fill('#api-key', 'not-a-key');
    await fresh.click('#login-form button[type=submit]');
    await fresh.locator('#status.problem', { hasText: 'refused the key' }).waitFor();
    await fresh.locator('#login').waitFor({ state: 'visible' });
    expect(await fresh.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('troupe.apiKey'))).toBeNull();
    await fresh.close();
  });
});
