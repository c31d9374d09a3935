import { runCli } from './cli';

/** `troupe`: the command-line client of the gateway's HTTP API (`npm run troupe -- --help`). */
const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  signal: interrupt.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
