import type { WorkflowDefinition } from './workflow-definition';
import { DuplicateDefinitionError } from './errors';

/** `<workflowType>@<machineVersion>`: the name a versioned definition is registered under. */
export function definitionKey(workflowType: string, machineVersion: string): string {
  return `${workflowType}@${machineVersion}`;
}

/**
 * Orders machine versions: numerically when both are decimal integers (`"2"` before `"10"`), otherwise
 * by `localeCompare` with numeric collation (`"1.2"` before `"1.10"`).
 */
export function compareMachineVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b);
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The workflow definitions a host knows, each registered as `<workflowType>@<machineVersion>`.
 * A new instance starts on the latest version of its type ({@link forStartEvent}); a running instance
 * continues on the version its snapshot records ({@link get}).
 */
export class DefinitionRegistry {
  private readonly byKey = new Map<string, WorkflowDefinition>();
  private readonly latestByType = new Map<string, WorkflowDefinition>();
  private readonly latestByStartEvent = new Map<string, WorkflowDefinition>();

  /** @throws DuplicateDefinitionError when two definitions share a `<workflowType>@<machineVersion>`. */
  constructor(definitions: readonly WorkflowDefinition[]) {
    for (const definition of definitions) {
      const key = definitionKey(definition.workflowType, definition.machineVersion);
      if (this.byKey.has(key)) throw new DuplicateDefinitionError(key);
      this.byKey.set(key, definition);
      const latest = this.latestByType.get(definition.workflowType);
      if (latest === undefined || compareMachineVersions(definition.machineVersion, latest.machineVersion) > 0) {
        this.latestByType.set(definition.workflowType, definition);
      }
    }
    for (const definition of this.latestByType.values()) this.latestByStartEvent.set(definition.startEventType, definition);
  }

  /** The definition `<workflowType>@<machineVersion>`, or undefined when not registered. */
  get(workflowType: string, machineVersion: string): WorkflowDefinition | undefined {
    return this.byKey.get(definitionKey(workflowType, machineVersion));
  }

  /** The latest registered version of `workflowType`, or undefined. */
  latest(workflowType: string): WorkflowDefinition | undefined {
    return this.latestByType.get(workflowType);
  }

  /** The latest version of the workflow type that `eventType` starts, or undefined. */
  forStartEvent(eventType: string): WorkflowDefinition | undefined {
    return this.latestByStartEvent.get(eventType);
  }

  /** Every registered `<workflowType>@<machineVersion>`, sorted. */
  keys(): string[] {
    return [...this.byKey.keys()].sort();
  }
}
