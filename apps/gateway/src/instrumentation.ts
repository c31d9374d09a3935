// Loaded first by main.ts, before anything else: the OpenTelemetry SDK of this process (OTLP export
// only when OTEL_EXPORTER_OTLP_ENDPOINT is set; see @troupe/telemetry startTelemetry), with a SERVER
// span per HTTP request (see http/tracing.ts).
import { startTelemetry } from '@troupe/telemetry';
import { gatewayHttpInstrumentation } from './http/tracing';

startTelemetry({ serviceName: 'troupe-gateway', instrumentations: [gatewayHttpInstrumentation()] });
