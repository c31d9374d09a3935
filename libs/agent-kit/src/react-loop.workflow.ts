import { defineWorkflow } from '@troupe/actor-runtime';
import {
  AGENT_RUN_REQUESTED,
  APPROVAL_DECIDED,
  AgentRunRequested,
  ApprovalDecided,
  EFFECT_FAILED,
  EffectFailed,
  MODEL_RESPONDED,
  ModelResponded,
  REACT_LOOP,
  TOOL_RESPONDED,
  ToolResponded,
  WORKFLOW_CANCEL_REQUESTED,
  WorkflowCancelRequested,
} from '@troupe/contracts';
import { REACT_LOOP_MACHINE_VERSION, reactLoopMachine } from '@troupe/statecharts';

/**
 * Binds the react-loop machine to the bus, so any actor runtime (the orchestrator's) hosts agent runs
 * like workflows: started by `agent.run_requested` on `troupe.wf.<partition>.<runId>`, fed the results
 * of its `model.call` and `tool.call` effects, human decisions and cancellation. Tags: agent, parent
 * workflow, iterations, tokens, cost (USD) and which model or fallback served each step.
 */
export function reactLoopWorkflow() {
  return defineWorkflow({
    workflowType: REACT_LOOP,
    machine: reactLoopMachine,
    machineVersion: REACT_LOOP_MACHINE_VERSION,
    startEventType: AGENT_RUN_REQUESTED,
    events: {
      [AGENT_RUN_REQUESTED]: AgentRunRequested,
      [MODEL_RESPONDED]: ModelResponded,
      [TOOL_RESPONDED]: ToolResponded,
      [APPROVAL_DECIDED]: ApprovalDecided,
      [EFFECT_FAILED]: EffectFailed,
      [WORKFLOW_CANCEL_REQUESTED]: WorkflowCancelRequested,
    },
    input: ({ workflowId, payload }) => ({ ...(payload as AgentRunRequested), runId: workflowId }),
    tags: (snapshot) => ({
      agent: snapshot.context.agent,
      parentWorkflowId: snapshot.context.parent.workflowId,
      iterations: String(snapshot.context.iterations),
      tokens: String(snapshot.context.inputTokens + snapshot.context.outputTokens),
      costUsd: snapshot.context.costUsd.toFixed(6),
      // Which model or fallback served each model call, in order (comma-separated).
      servedBy: snapshot.context.servedBy.join(','),
      ...(snapshot.context.failure === null ? {} : { failure: snapshot.context.failure.code }),
    }),
  });
}
