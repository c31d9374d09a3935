import type { JetStreamClient } from 'nats';

/**
 * Every key of the JetStream KV bucket `bucket`, sorted, read from the bucket stream's per-subject
 * state (`$JS.API.STREAM.INFO.KV_<bucket>` with `subjects_filter`, paged by nats.js): one
 * request-reply per page, each bounded by the client's request timeout.
 *
 * Why not `kv.keys()`: it walks an ordered consumer until a message reports `pending === 0`, and when
 * the bucket is written while it walks (schedules, snapshots and leases are written several times a
 * second) nats-server 2.9 can over-count pending, so the listing never ends
 * (nats-io/nats-server#3481). A scheduler pass stuck on it stopped firing every schedule.
 *
 * A key whose last operation is a delete or purge is still listed (its marker is a message on the
 * subject): callers read each key and skip what `kv.get` does not return as a `PUT`. Keys are
 * returned as stored (no key codec is applied; Troupe's buckets store keys unencoded or encode them
 * themselves).
 *
 * @throws Error from JetStream when the stream does not exist or the request times out.
 */
export async function listKvKeys(js: JetStreamClient, bucket: string): Promise<string[]> {
  const jsm = await js.jetstreamManager(false);
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  const subjects = info.state.subjects ?? {};
  return Object.keys(subjects)
    .filter((subject) => subject.startsWith(prefix))
    .map((subject) => subject.slice(prefix.length))
    .sort();
}
