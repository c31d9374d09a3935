import type { JetStreamClient, NatsConnection } from 'nats';
import type { Journal, SnapshotStore } from '@troupe/persistence';
import type { WorkflowCatalogEntry } from '@troupe/statecharts';

/** Injection token of the gateway's {@link GatewayPorts}. */
export const GATEWAY_PORTS = Symbol('GATEWAY_PORTS');

/**
 * What the gateway reads and writes through. It reads the read model and the streams, and writes only
 * by publishing events.
 */
export interface GatewayPorts {
  store: SnapshotStore;
  journal: Journal;
  /** The connection: change-feed subscriptions, dead letters, health. */
  nats: NatsConnection;
  js: JetStreamClient;
  /** The workflow types that can be started, sent events and drawn. */
  catalog: readonly WorkflowCatalogEntry[];
  now: () => Date;
  /** Event ids and generated workflow ids. */
  newId: () => string;
}
