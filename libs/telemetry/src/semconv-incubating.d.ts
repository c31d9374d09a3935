// The incubating entry point of @opentelemetry/semantic-conventions is published only under the
// package's `exports` map, which this repository's `moduleResolution: node` does not read; this
// declaration points the type checker at the same file Node.js loads.
declare module '@opentelemetry/semantic-conventions/incubating' {
  export * from '@opentelemetry/semantic-conventions/dist/index-incubating.cjs';
}
