import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { Envelope, parseOrThrow } from '@troupe/contracts';
import { publishEnvelope } from './publisher';

/**
 * NestJS client over JetStream for events only: `client.emit(subject, envelope)` publishes the envelope
 * (validated first) with `Nats-Msg-Id` = envelope id, and completes when the stream has acked it.
 * Request/response (`send`) is not offered: Troupe's messages are events.
 */
export class JetStreamClient extends ClientProxy {
  constructor(private readonly connection: NatsConnection) {
    super();
  }

  async connect(): Promise<NatsConnection> {
    return this.connection;
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }

  override unwrap<T>(): T {
    return this.connection as T;
  }

  override on(): never {
    throw new Error('JetStreamClient does not emit transport events');
  }

  protected publish(_packet: ReadPacket, _callback: (packet: WritePacket) => void): () => void {
    throw new Error('JetStreamClient publishes events only; use emit()');
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const envelope = parseOrThrow(Envelope, packet.data, 'envelope');
    const subject = typeof packet.pattern === 'string' ? packet.pattern : String(packet.pattern);
    return (await publishEnvelope(this.connection.jetstream(), subject, envelope, { msgId: envelope.id })) as T;
  }
}
