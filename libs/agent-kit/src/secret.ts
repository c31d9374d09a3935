import { inspect } from 'node:util';

/**
 * A value that must never be logged, such as an API key. `toString`, `toJSON` and `util.inspect` show
 * `[secret]`; only {@link Secret.reveal} returns the value, for the one place that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret value itself; pass it straight to the client that needs it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return 'Secret([secret])';
  }
}
