import type { RunTracker } from './tracker';

/** What {@link approveEveryPendingGate} has done so far. */
export interface AutoApprovals {
  /** Gates an approval was sent for. */
  sent(): number;
  /** Approvals the gateway did not accept with 202, or that could not be sent. */
  failures(): number;
}

/**
 * `--approve all`: acts as an operator over the gateway's HTTP API and approves every gate that
 * `tracker` sees pending, once per gate id, with the run's API key (`X-Api-Key`). Fire-and-forget per
 * gate: the workflow's next change shows the outcome; a refusal or a network error counts as a failure.
 */
export function approveEveryPendingGate(tracker: RunTracker, options: { gatewayUrl: string; apiKey: string; comment: string }): AutoApprovals {
  const sent = new Set<string>();
  let failures = 0;
  tracker.onChange((workflow) => {
    const pending = workflow.last?.pendingApproval;
    if (pending === null || pending === undefined || sent.has(pending.gateId)) return;
    sent.add(pending.gateId);
    void fetch(`${options.gatewayUrl}/workflows/${workflow.workflowId}/approvals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': options.apiKey },
      body: JSON.stringify({ gateId: pending.gateId, decision: 'approved', comment: options.comment }),
    })
      .then((response) => {
        if (response.status !== 202) failures += 1;
      })
      .catch(() => {
        failures += 1;
      });
  });
  return { sent: () => sent.size, failures: () => failures };
}

/** No approvals: `--approve none`. */
export const NO_APPROVALS: AutoApprovals = { sent: () => 0, failures: () => 0 };
