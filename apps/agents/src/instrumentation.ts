// Loaded first by main.ts, before anything else: the OpenTelemetry SDK of this process (OTLP export
// only when OTEL_EXPORTER_OTLP_ENDPOINT is set; see @troupe/telemetry startTelemetry).
import { startTelemetry } from '@troupe/telemetry';

startTelemetry({ serviceName: 'troupe-agents' });
