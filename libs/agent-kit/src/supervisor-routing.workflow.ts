import type { z } from 'zod';
import { defineWorkflow } from '@troupe/actor-runtime';
import {
  APPROVAL_DECIDED,
  ApprovalDecided,
  EFFECT_FAILED,
  EffectFailed,
  ROUTE_DECIDED,
  RouteDecided,
  SUPERVISION_REQUESTED,
  SUPERVISOR_ROUTING,
  SupervisionRequested,
  WORKFLOW_CANCEL_REQUESTED,
  WorkflowCancelRequested,
} from '@troupe/contracts';
import { SUPERVISOR_ROUTING_MACHINE_VERSION, supervisorRoutingMachine } from '@troupe/statecharts';

/**
 * Binds the supervisor-routing machine to the bus, hosted by the orchestrator's runtime like workflows:
 * started by `supervision.requested`, fed the router's `route.decided`, human decisions, failures, and
 * the specialists' answers, whose payload schemas (by event type) are given here.
 */
export function supervisorRoutingWorkflow(specialistResults: Record<string, z.ZodType>) {
  return defineWorkflow({
    workflowType: SUPERVISOR_ROUTING,
    machine: supervisorRoutingMachine,
    machineVersion: SUPERVISOR_ROUTING_MACHINE_VERSION,
    startEventType: SUPERVISION_REQUESTED,
    events: {
      ...specialistResults,
      [SUPERVISION_REQUESTED]: SupervisionRequested,
      [ROUTE_DECIDED]: RouteDecided,
      [APPROVAL_DECIDED]: ApprovalDecided,
      [EFFECT_FAILED]: EffectFailed,
      [WORKFLOW_CANCEL_REQUESTED]: WorkflowCancelRequested,
    },
    input: ({ workflowId, payload }) => ({ ...(payload as SupervisionRequested), supervisionId: workflowId }),
    tags: (snapshot) => ({
      mode: snapshot.context.request.mode,
      parentWorkflowId: snapshot.context.request.parent.workflowId,
      ...(snapshot.context.decision === null ? {} : { route: snapshot.context.decision.route, confidence: snapshot.context.decision.confidence.toFixed(4) }),
      ...(snapshot.context.timedOut ? { timedOut: 'true' } : {}),
    }),
  });
}
