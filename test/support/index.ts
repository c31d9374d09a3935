/**
 * @troupe/testing: helpers for integration and end-to-end tests (real servers, never mocks of them).
 */
export { startNatsServer, freePort, waitForPort, type NatsServerHandle } from './nats-server';
export { startTroupeStack, publishEmails, readDeadLetters, pollJson, readJournalAtVersion, lastWorkflowEventPayload, type TroupeStack } from './troupe-stack';
export { readSpanRecords, readLatestMetrics, pollUntil } from './telemetry-files';
export { deliverRetryingConflicts } from './actor-runtime';
export { startLeastPrivilegeStack, PERMISSIONS_CONFIG, NATS_USERS, passwordVariable, type LeastPrivilegeStack, type NatsUser } from './least-privilege-stack';
