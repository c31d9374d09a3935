import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient, ApiProblemError, ApiTransportError, resolveApiConfig } from './api-client';
import {
  formatApprovals,
  formatDeadLetters,
  formatFeedChange,
  formatJournal,
  formatProblem,
  formatReplay,
  formatSchedule,
  formatSchedules,
  formatWorkflowDetail,
  formatWorkflowList,
  renderFields,
} from './format';
import {
  ApprovalPage,
  DeadLetterPage,
  DeadLetterReplayed,
  DecisionAccepted,
  EventAccepted,
  FeedChange,
  JournalPage,
  Me,
  ReplayResult,
  SchedulePage,
  ScheduleView,
  WorkflowDetail,
  WorkflowPage,
} from './responses';
import { parseEventStream } from './sse';

/** What the CLI reads and writes through, so tests can run it in process. */
export interface CliIo {
  /** Writes text to standard output (the caller adds nothing; lines end in `\n`). */
  stdout(text: string): void;
  /** Writes text to standard error. */
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Aborts `troupe tail` (SIGINT in a terminal). */
  signal?: AbortSignal;
}

/** Flags every command accepts. */
interface GlobalFlags {
  url?: string;
  apiKey?: string;
  token?: string;
  json?: boolean;
}

/** Exit codes: 0 done, 1 the server refused or could not be reached, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const positiveInt = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return parsed;
};

const nonNegativeInt = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return parsed;
};

const jsonObject = (value: string) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
};

/**
 * Runs one `troupe` command line (`argv` without the node and script names) and resolves to its exit
 * code. Errors of the server (RFC 9457 problems) go to stderr with their status, title, detail and
 * issues (as JSON with `--json`).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const print = (text: string) => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

  const program = new Command('troupe')
    .description("Operate Troupe workflows over the gateway's HTTP API.")
    .addOption(new Option('--url <url>', 'gateway base URL (env TROUPE_API_URL, default http://127.0.0.1:3000)'))
    .addOption(new Option('--api-key <key>', 'API key, sent as X-Api-Key (env TROUPE_API_KEY)'))
    .addOption(new Option('--token <jwt>', 'JWT, sent as Authorization: Bearer (env TROUPE_TOKEN)'))
    .option('--json', 'print the server\'s JSON instead of tables')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .showHelpAfterError();

  /** Wraps an action: the client from the flags, `--json` or the human form, and the error printing. */
  const action =
    <A extends unknown[]>(body: (context: { client: ApiClient; json: boolean; print: typeof print; printJson: typeof printJson }, ...args: A) => Promise<void>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const flags = command.optsWithGlobals<GlobalFlags>();
      const client = new ApiClient(resolveApiConfig(flags, io.env), io.fetch);
      try {
        await body({ client, json: flags.json === true, print, printJson }, ...(args.slice(0, -1) as A));
      } catch (error) {
        exitCode = EXIT_FAILED;
        if (error instanceof ApiProblemError) {
          if (flags.json) io.stderr(`${JSON.stringify(error.problem, null, 2)}\n`);
          else io.stderr(`${formatProblem(error.problem, error.method, error.url)}\n`);
        } else if (error instanceof ApiTransportError) {
          io.stderr(`error: ${error.message}\n`);
        } else if ((error as Error).name === 'AbortError') {
          exitCode = EXIT_OK;
        } else {
          io.stderr(`error: ${(error as Error).message}\n`);
        }
      }
    };

  program
    .command('whoami')
    .description('the identity and roles the gateway sees for your credential (GET /me)')
    .action(
      action(async ({ client, json }) => {
        const me = await client.request('GET', '/me', Me);
        if (json) printJson(me.raw);
        else print(renderFields([['id', me.body.id], ['roles', me.body.roles.join(', ')], ['via', me.body.via]]));
      }),
    );

  const workflows = program.command('workflows').description('list and inspect workflows');
  workflows
    .command('list')
    .description('workflows, filtered (GET /workflows)')
    .option('--type <workflowType>', 'only this workflow type')
    .option('--status <status>', 'active, done, error or stopped')
    .option('--state <state>', 'only workflows in this state (a dotted state path)')
    .option('--tag <key:value>', 'only workflows with this tag')
    .option('--id-prefix <prefix>', 'only workflow ids starting with this')
    .option('--updated-after <iso>', 'updated at or after this instant')
    .option('--updated-before <iso>', 'updated before this instant')
    .option('--limit <n>', 'items per page (1..1000)', positiveInt('--limit'))
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow the cursor to the last page')
    .action(
      action(async ({ client, json }, options: Record<string, string | number | boolean | undefined>) => {
        const query = {
          type: options.type as string | undefined,
          status: options.status as string | undefined,
          state: options.state as string | undefined,
          tag: options.tag as string | undefined,
          idPrefix: options.idPrefix as string | undefined,
          updatedAfter: options.updatedAfter as string | undefined,
          updatedBefore: options.updatedBefore as string | undefined,
          limit: options.limit as number | undefined,
          cursor: options.cursor as string | undefined,
        };
        const first = await client.request('GET', '/workflows', WorkflowPage, { query });
        const items = [...first.body.items];
        const raws = [...(first.raw as { items: unknown[] }).items];
        let nextCursor = first.body.nextCursor;
        while (options.all && nextCursor) {
          const next = await client.request('GET', '/workflows', WorkflowPage, { query: { ...query, cursor: nextCursor } });
          items.push(...next.body.items);
          raws.push(...(next.raw as { items: unknown[] }).items);
          nextCursor = next.body.nextCursor;
        }
        if (json) printJson(options.all ? { items: raws, nextCursor: null } : first.raw);
        else print(formatWorkflowList(items, nextCursor));
      }),
    );
  workflows
    .command('show')
    .description("one workflow's state, context summary, pending approval and journal (GET /workflows/:id)")
    .argument('<workflowId>')
    .action(
      action(async ({ client, json }, workflowId: string) => {
        const detail = await client.request('GET', `/workflows/${encodeURIComponent(workflowId)}`, WorkflowDetail);
        if (json) printJson(detail.raw);
        else print(formatWorkflowDetail(detail.body));
      }),
    );
  workflows
    .command('events')
    .description("a workflow's journal: every event received and what it did (GET /workflows/:id/journal)")
    .argument('<workflowId>')
    .action(
      action(async ({ client, json }, workflowId: string) => {
        const journal = await client.request('GET', `/workflows/${encodeURIComponent(workflowId)}/journal`, JournalPage);
        if (json) printJson(journal.raw);
        else print(formatJournal(journal.body.items));
      }),
    );
  workflows
    .command('replay')
    .description('the state a workflow had after journal step N, replayed by the server (GET /workflows/:id/replay?step=N)')
    .argument('<workflowId>')
    .requiredOption('--step <n>', 'journal sequence number (1 = after the first event)', positiveInt('--step'))
    .action(
      action(async ({ client, json }, workflowId: string, options: { step: number }) => {
        const replay = await client.request('GET', `/workflows/${encodeURIComponent(workflowId)}/replay`, ReplayResult, { query: { step: options.step } });
        if (json) printJson(replay.raw);
        else print(formatReplay(replay.body, options.step));
      }),
    );

  const approvals = program.command('approvals').description('the approval inbox and decisions');
  approvals
    .command('list')
    .description('workflows waiting for a human decision (GET /approvals)')
    .option('--limit <n>', 'items per page (1..1000)', positiveInt('--limit'))
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(
      action(async ({ client, json }, options: { limit?: number; cursor?: string }) => {
        const inbox = await client.request('GET', '/approvals', ApprovalPage, { query: { limit: options.limit, cursor: options.cursor } });
        if (json) printJson(inbox.raw);
        else print(formatApprovals(inbox.body.items, inbox.body.nextCursor));
      }),
    );
  const decide = (decision: 'approved' | 'rejected' | 'edited', description: string) => {
    const command = approvals
      .command(decision === 'approved' ? 'approve' : decision === 'rejected' ? 'reject' : 'edit')
      .description(description)
      .argument('<workflowId>')
      .option('--gate <gateId>', 'the gate to decide (default: the pending one)')
      .option('--comment <text>', 'why, recorded in the journal');
    if (decision === 'edited') {
      command.option('--text <text>', 'the edited text to continue with').option('--file <path>', 'read the edited text from this file');
    }
    command.action(
      action(async ({ client, json }, workflowId: string, options: { gate?: string; comment?: string; text?: string; file?: string }) => {
        let editedText: string | undefined;
        if (decision === 'edited') {
          editedText = options.text ?? (options.file ? await readFile(options.file, 'utf8') : undefined);
          if (editedText === undefined || editedText.trim() === '') throw new Error('approvals edit needs the edited text: --text <text> or --file <path>');
        }
        const accepted = await client.request('POST', `/workflows/${encodeURIComponent(workflowId)}/approvals`, DecisionAccepted, {
          body: { decision, gateId: options.gate, comment: options.comment, editedText },
        });
        if (json) printJson(accepted.raw);
        else print(`${decision} ${workflowId} at gate ${accepted.body.gateId}: event ${accepted.body.eventId} published to ${accepted.body.subject}`);
      }),
    );
  };
  decide('approved', 'approve the pending proposal (POST /workflows/:id/approvals)');
  decide('rejected', 'reject the pending proposal');
  decide('edited', 'continue with your edited version of the proposal (--text or --file)');

  program
    .command('send')
    .description('send an event into a workflow (POST /workflows/:id/events)')
    .argument('<workflowId>')
    .argument('<eventType>', 'e.g. workflow.cancel_requested')
    .option('--payload <json>', 'the event payload, a JSON object', jsonObject, {})
    .option('--event-id <id>', 'idempotency key of the event (default: generated by the gateway)')
    .action(
      action(async ({ client, json }, workflowId: string, eventType: string, options: { payload: Record<string, unknown>; eventId?: string }) => {
        const accepted = await client.request('POST', `/workflows/${encodeURIComponent(workflowId)}/events`, EventAccepted, {
          body: { type: eventType, payload: options.payload, eventId: options.eventId },
        });
        if (json) printJson(accepted.raw);
        else print(`sent ${eventType} to ${workflowId}: event ${accepted.body.eventId} published to ${accepted.body.subject}`);
      }),
    );

  const dlq = program.command('dlq').description('dead letters: messages that failed for good');
  dlq
    .command('list')
    .description('dead letters with their reasons (GET /dead-letters)')
    .option('--limit <n>', 'items per page (1..1000)', positiveInt('--limit'))
    .option('--cursor <cursor>', 'continue from a previous page')
    .action(
      action(async ({ client, json }, options: { limit?: number; cursor?: string }) => {
        const letters = await client.request('GET', '/dead-letters', DeadLetterPage, { query: { limit: options.limit, cursor: options.cursor } });
        if (json) printJson(letters.raw);
        else print(formatDeadLetters(letters.body.items, letters.body.nextCursor));
      }),
    );
  dlq
    .command('replay')
    .description('re-publish one dead letter to its original subject (POST /dead-letters/:sequence/replay)')
    .argument('<sequence>', 'the dead letter\'s sequence (from dlq list)', nonNegativeInt('sequence'))
    .action(
      action(async ({ client, json }, sequence: number) => {
        const replayed = await client.request('POST', `/dead-letters/${sequence}/replay`, DeadLetterReplayed);
        if (json) printJson(replayed.raw);
        else print(`replayed dead letter ${replayed.body.sequence} to ${replayed.body.republishedTo}`);
      }),
    );

  const schedules = program.command('schedules').description('cron schedules that start workflows');
  schedules
    .command('list')
    .description('every schedule with its next tick (GET /schedules)')
    .action(
      action(async ({ client, json }) => {
        const page = await client.request('GET', '/schedules', SchedulePage);
        if (json) printJson(page.raw);
        else print(formatSchedules(page.body.items, page.body.unreadable));
      }),
    );
  schedules
    .command('show')
    .description('one schedule (GET /schedules/:id)')
    .argument('<scheduleId>')
    .action(
      action(async ({ client, json }, scheduleId: string) => {
        const schedule = await client.request('GET', `/schedules/${encodeURIComponent(scheduleId)}`, ScheduleView);
        if (json) printJson(schedule.raw);
        else print(formatSchedule(schedule.body));
      }),
    );
  for (const [verb, description] of [
    ['pause', 'pause a schedule; a tick already claimed is still started (POST /schedules/:id/pause)'],
    ['resume', 'resume a schedule from now on; ticks missed while paused are not fired (POST /schedules/:id/resume)'],
  ] as const) {
    schedules
      .command(verb)
      .description(description)
      .argument('<scheduleId>')
      .action(
        action(async ({ client, json }, scheduleId: string) => {
          const schedule = await client.request('POST', `/schedules/${encodeURIComponent(scheduleId)}/${verb}`, ScheduleView);
          if (json) printJson(schedule.raw);
          else print(`${verb === 'pause' ? 'paused' : 'resumed'} ${scheduleId}\n${formatSchedule(schedule.body)}`);
        }),
      );
  }

  program
    .command('tail')
    .description(
      'follow state changes live, of the fleet or of one workflow (SSE: GET /feed, GET /workflows/:id/feed); after a dropped connection it reconnects with Last-Event-ID and misses nothing',
    )
    .argument('[workflowId]')
    .option('--count <n>', 'stop after this many changes', positiveInt('--count'))
    .option('--reconnect-delay <ms>', 'wait before reconnecting after a dropped connection (ms)', nonNegativeInt('--reconnect-delay'), 1_000)
    .option('--max-reconnects <n>', 'give up after this many reconnects in a row that bring no change', nonNegativeInt('--max-reconnects'), 10)
    .action(
      action(async ({ client, json }, workflowId: string | undefined, options: { count?: number; reconnectDelay: number; maxReconnects: number }) => {
        const controller = new AbortController();
        io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
        const path = workflowId ? `/workflows/${encodeURIComponent(workflowId)}/feed` : '/feed';
        let seen = 0;
        let lastEventId: string | null = null;
        let reconnects = 0;
        let connected = false;
        try {
          for (;;) {
            let dropped: string;
            try {
              // A failure before the first connection is the caller's to see; so is any problem answer (401, 400…).
              const response = await client.openStream(path, controller.signal, lastEventId);
              if (!response.body) throw new ApiTransportError('the feed answered without a body');
              connected = true;
              // On stderr, so --json output stays one change per line; tests wait for it before acting.
              const resuming = lastEventId === null ? '' : ` after event ${lastEventId}`;
              io.stderr(`following ${response.url || client.urlFor(path)}${resuming} (Ctrl-C to stop)\n`);
              for await (const event of parseEventStream(response.body)) {
                if (event.id !== null) lastEventId = event.id;
                if (event.event !== 'workflow.changed') continue;
                reconnects = 0;
                let data: unknown;
                try {
                  data = JSON.parse(event.data);
                } catch {
                  io.stderr(`warning: skipped a feed event whose data is not JSON (id ${event.id ?? '-'})\n`);
                  continue;
                }
                const change = FeedChange.safeParse(data);
                if (!change.success) {
                  io.stderr(`warning: skipped a feed event of an unexpected shape (id ${event.id ?? '-'})\n`);
                  continue;
                }
                if (json) io.stdout(`${JSON.stringify(data)}\n`);
                else print(formatFeedChange(change.data, (io.now ?? (() => new Date()))()));
                seen += 1;
                if (options.count !== undefined && seen >= options.count) return;
              }
              dropped = 'the gateway closed the stream';
            } catch (error) {
              if (controller.signal.aborted || error instanceof ApiProblemError || !connected) throw error;
              dropped = (error as Error).message;
            }
            if (controller.signal.aborted) return;
            if (reconnects >= options.maxReconnects) {
              throw new ApiTransportError(`the feed ended: ${dropped}${options.maxReconnects > 0 ? ` (gave up after ${reconnects} reconnects)` : ''}`);
            }
            reconnects += 1;
            io.stderr(`the feed dropped (${dropped}); reconnecting in ${options.reconnectDelay} ms${lastEventId === null ? '' : ` with Last-Event-ID ${lastEventId}`}\n`);
            await sleep(options.reconnectDelay, undefined, { signal: controller.signal });
          }
        } finally {
          controller.abort();
        }
      }),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; a wrong command line with 2.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    throw error;
  }
  return exitCode;
}
