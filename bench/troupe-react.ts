import type { NatsConnection } from 'nats';
import { publishEnvelope } from '@troupe/bus';
import { agentConsumer, workflowEventSubject } from '@troupe/contracts';
import { cpuSince, perSecond, pipelined, sampleCpu, withTimeout } from './measure';
import { REACT_AGENT, ReactAgentController, reactStartedEvent, reactWorkflow } from './react-workflow';
import { nodeStepsPerWorkflow } from './react-workload';
import { resetTroupeStreams, startTroupeHost } from './troupe-host';

/** Sizes of one Troupe ReAct run. */
export interface ReactRunOptions {
  workflows: number;
  toolRounds: number;
  /** Handler calls in flight per pattern (workflow events; the agent's tasks likewise). */
  concurrency: number;
  runId: string;
  serverPid?: number;
}

/** What one ReAct run measured (Troupe or LangGraph.js: the same shape). */
export interface ReactRunResult {
  side: string;
  workflows: number;
  toolRounds: number;
  /** Workflows in flight at once (Troupe: all of them, `concurrency` handler calls; LangGraph: `invoke`s in flight). */
  concurrency: number;
  /** Model + tool calls made (must be workflows × (2 × toolRounds + 1)). */
  nodeSteps: number;
  elapsedMs: number;
  nodeStepsPerSec: number;
  /** Durable steps (Troupe: start + one per node step) or checkpoints written (LangGraph), per second. */
  persistedStepsPerSec: number | null;
  /** CPU per node step: the process running the workflows, and its server (nats-server; for LangGraph, every `postgres` process) where there is one (µs). */
  clientCpuUsPerNodeStep: number;
  serverCpuUsPerNodeStep: number | null;
  /** Heap used after the run (bytes), of the process running the workflows. */
  heapUsedBytes: number;
}

/**
 * The ReAct workload through Troupe: the real runtime on the orchestrator's partition consumers and a
 * ReAct agent on its work queue in the same Nest microservice (the embedded way; the apps run them as
 * separate processes), every step over real JetStream: start event → `reason` task → result event →
 * durable step → `act` task → … → answered. The start events are published before the consumers
 * start; timed from the first ack of a workflow event to the last.
 *
 * @throws Error when a workflow did not reach its answer, or a step failed.
 */
export async function runTroupeReact(nats: NatsConnection, options: ReactRunOptions): Promise<ReactRunResult> {
  const agent = agentConsumer(REACT_AGENT);
  await resetTroupeStreams(nats, [agent]);
  const js = nats.jetstream();
  const ids = Array.from({ length: options.workflows }, (_, i) => `${options.runId}-react${i}`);
  await pipelined(ids.length, 256, async (i) => {
    const event = reactStartedEvent(ids[i], i, options.toolRounds);
    await publishEnvelope(js, workflowEventSubject(event.workflowId), event, { msgId: event.id });
  });
  ReactAgentController.calls = 0;
  const host = await startTroupeHost(nats, {
    definitions: [reactWorkflow],
    concurrency: options.concurrency,
    cacheSize: Math.max(10_000, options.workflows + 1),
    controllers: [ReactAgentController],
    consumers: [agent],
  });
  const perWorkflow = nodeStepsPerWorkflow(options.toolRounds);
  const durableSteps = ids.length * (perWorkflow + 1);
  const cpu = sampleCpu(options.serverPid);
  await host.startWorkflowConsumers('partitions');
  const doneAt = await withTimeout(host.probe.acks(durableSteps), 120_000 + durableSteps * 20, `ReAct run (${host.describe()})`);
  const spent = cpuSince(cpu, options.serverPid);
  const elapsedMs = doneAt - host.probe.firstAckAt;
  const counters = host.runtime.counters;
  const unfinished = [];
  for (const id of ids.slice(0, 20)) {
    const record = await host.persistence.snapshots.load(id);
    if (record?.stateValue !== 'answered') unfinished.push(`${id}: ${JSON.stringify(record?.stateValue)}`);
  }
  const heapUsedBytes = process.memoryUsage().heapUsed;
  await host.close();
  const nodeSteps = ReactAgentController.calls;
  if (counters.applied !== durableSteps || counters.rejected > 0 || nodeSteps !== ids.length * perWorkflow || unfinished.length > 0) {
    throw new Error(`Troupe ReAct run: ${counters.applied} of ${durableSteps} steps applied, ${nodeSteps} node steps, unfinished ${unfinished.join('; ')} (${host.describe()})`);
  }
  return {
    side: 'Troupe',
    workflows: ids.length,
    toolRounds: options.toolRounds,
    concurrency: options.concurrency,
    nodeSteps,
    elapsedMs,
    nodeStepsPerSec: perSecond(nodeSteps, elapsedMs),
    persistedStepsPerSec: perSecond(durableSteps, elapsedMs),
    clientCpuUsPerNodeStep: (spent.selfMs * 1_000) / nodeSteps,
    serverCpuUsPerNodeStep: spent.otherMs === null ? null : (spent.otherMs * 1_000) / nodeSteps,
    heapUsedBytes,
  };
}
