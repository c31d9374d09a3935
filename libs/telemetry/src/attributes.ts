/**
 * Span and metric attribute names of Troupe's own concepts (the OpenTelemetry semantic conventions
 * have none for workflows, actors or effects). Standard names come from
 * `@opentelemetry/semantic-conventions` and are re-exported here where other libraries set them.
 */
export const TROUPE_ATTRIBUTES = {
  workflowId: 'troupe.workflow.id',
  workflowType: 'troupe.workflow.type',
  /** The state value before the step, as JSON of the (small) state value, never the snapshot. */
  fromState: 'troupe.workflow.from_state',
  toState: 'troupe.workflow.to_state',
  finalState: 'troupe.workflow.final_state',
  status: 'troupe.workflow.status',
  version: 'troupe.workflow.version',
  eventType: 'troupe.event.type',
  eventId: 'troupe.event.id',
  outcome: 'troupe.step.outcome',
  rejection: 'troupe.step.rejection',
  effectId: 'troupe.effect.id',
  effectKind: 'troupe.effect.kind',
  effectSource: 'troupe.effect.source',
  effectOutcome: 'troupe.effect.outcome',
  deliveryCount: 'troupe.delivery.count',
  messageOutcome: 'troupe.message.outcome',
  deadLetterOrigin: 'troupe.dead_letter.origin',
  errorCode: 'troupe.error.code',
  stream: 'troupe.stream',
  /** The hop a model chain took when a model gave up: the next model's label, `fallback/<name>`, or `none`. */
  modelFallbackTo: 'troupe.model.fallback.to',
  /** Which hop of a model chain served the call (`provider/model` or `fallback/<name>`). */
  modelServedBy: 'troupe.model.served_by',
} as const;

/** Baggage keys Troupe propagates with the trace context, so a hop knows which workflow it works for. */
export const TROUPE_BAGGAGE = {
  workflowId: 'troupe.workflow.id',
  workflowType: 'troupe.workflow.type',
} as const;
