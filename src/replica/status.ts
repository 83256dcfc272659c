import http from 'node:http';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { ReplicaState } from './state-file.js';

/** What the replica reports about itself (status file, metrics, log lines). */
export interface ReplicaStatus {
  master: string;
  dir: string;
  link: 'connecting' | 'sync' | 'up' | 'down' | 'stopped';
  linkUpSince: string | null;
  replid: string | null;
  offset: number;
  commands: number;
  incrBytes: number;
  baseKeys: number;
  fullSyncs: number;
  partialSyncs: number;
  lastFullSyncAt: string | null;
  /** A full sync in progress: bytes so far and the total when the master announced it. */
  transfer: { bytes: number; total: number | null } | null;
  shrinkDetected: { at: string; keys: number; previousKeys: number; policy: string } | null;
  lastError: string | null;
}

export function newStatus(master: string, dir: string): ReplicaStatus {
  return {
    master,
    dir,
    link: 'down',
    linkUpSince: null,
    replid: null,
    offset: -1,
    commands: 0,
    incrBytes: 0,
    baseKeys: 0,
    fullSyncs: 0,
    partialSyncs: 0,
    lastFullSyncAt: null,
    transfer: null,
    shrinkDetected: null,
    lastError: null,
  };
}

/**
 * A restart carries on the counters of the run before (the state file keeps them), so the status
 * file and the metrics do not fall back to zero syncs and zero base keys while the data is there.
 */
export function restoreCounters(s: ReplicaStatus, state: ReplicaState): void {
  s.fullSyncs = state.fullSyncs ?? 0;
  s.partialSyncs = state.partialSyncs ?? 0;
  s.baseKeys = state.baseKeys ?? 0;
  s.lastFullSyncAt = state.lastFullSyncAt ?? null;
}

/** The counters the state file keeps for the next run. */
export function countersOf(s: ReplicaStatus): Pick<ReplicaState, 'fullSyncs' | 'partialSyncs'> {
  return { fullSyncs: s.fullSyncs, partialSyncs: s.partialSyncs };
}

/** A link streaming this long was healthy: losing it is a blip, and reconnecting starts over at the first delay. */
const HEALTHY_LINK_MS = 30_000;

export function linkHealthy(s: ReplicaStatus, ms: number = HEALTHY_LINK_MS, now = Date.now()): boolean {
  return s.link === 'up' && s.linkUpSince !== null && now - Date.parse(s.linkUpSince) >= ms;
}

/** Live figures that are not part of the status object itself. */
export interface LiveFigures {
  bytesReceived: number;
  lastIoAgeSeconds: number | null;
}

/** The status document written to the JSON status file. */
export function statusDocument(s: ReplicaStatus, live: LiveFigures): Record<string, unknown> {
  return { ...s, bytesReceived: live.bytesReceived, lastIoAgeSeconds: live.lastIoAgeSeconds, updatedAt: new Date().toISOString() };
}

/** Prometheus text exposition of the status. */
export function prometheusText(s: ReplicaStatus, live: LiveFigures): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${Number.isFinite(value) ? value : 0}`);
  };
  metric('tsredis_replica_link_up', 'gauge', '1 while streaming from the master.', s.link === 'up' ? 1 : 0);
  metric('tsredis_replica_offset', 'gauge', 'Replication offset applied and stored.', s.offset);
  metric('tsredis_replica_last_io_seconds', 'gauge', 'Seconds since the master last sent data (lag indicator).', live.lastIoAgeSeconds ?? -1);
  metric('tsredis_replica_received_bytes_total', 'counter', 'Bytes received from the master.', live.bytesReceived);
  metric('tsredis_replica_commands_total', 'counter', 'Commands applied on the current link.', s.commands);
  metric('tsredis_replica_incr_aof_bytes', 'gauge', 'Size of the incr AOF.', s.incrBytes);
  metric('tsredis_replica_full_syncs_total', 'counter', 'Full resyncs (carried across restarts by the state file).', s.fullSyncs);
  metric('tsredis_replica_partial_syncs_total', 'counter', 'Partial resyncs (carried across restarts by the state file).', s.partialSyncs);
  metric(
    'tsredis_replica_last_full_sync_timestamp_seconds',
    'gauge',
    'Unix time of the last full sync (0 = none yet).',
    s.lastFullSyncAt ? Date.parse(s.lastFullSyncAt) / 1000 : 0,
  );
  metric('tsredis_replica_shrink_refused', 'gauge', '1 when a shrinking full sync was detected.', s.shrinkDetected ? 1 : 0);
  return `${lines.join('\n')}\n`;
}

/** Writes the status file every second (atomically) while running. */
export function startStatusFile(path: string, doc: () => Record<string, unknown>): { stop(): Promise<void> } {
  let busy = false;
  const write = async () => {
    if (busy) return;
    busy = true;
    try {
      await writeFileAtomic(path, `${JSON.stringify(doc(), null, 2)}\n`);
    } catch {
      /* the next tick retries; a full disk shows up in the replica's own errors */
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void write(), 1000);
  timer.unref();
  void write();
  return {
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 10));
      await write();
    },
  };
}

/** Serves GET /metrics (Prometheus text) on the given port. */
export async function startMetricsServer(port: number, host: string, text: () => string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics' || req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
