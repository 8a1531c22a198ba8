/**
 * The `goldline` HTTP commands, one group per role: `pm`, `vendor`, `expert`,
 * `qa`, and `me`. Built with commander (per-command `-h`). Exit codes: 0 ok,
 * 1 the API refused or could not be reached (its problem printed: title,
 * detail, field errors), 2 usage (what was wrong, then the command's usage).
 *
 * @example await runGoldline(['qa', 'scorecards', '--program', 'demo-cxr'])
 */
import { Command, CommanderError } from 'commander';
import { ApiProblemError, ApiUnreachableError, describeProblem } from './client.js';
import { contextOf } from './context.js';
import { registerContractCommands } from './contract.js';
import { registerDisputeCommands } from './dispute.js';
import { registerDossierCommand } from './dossier.js';
import { registerExamCommands } from './exam.js';
import { registerExpertCommands } from './expert.js';
import { registerProgramCommands } from './held.js';
import { registerLedgerCommands } from './ledger.js';
import { type GoldlineIo, processIo } from './io.js';
import { registerPmCommands } from './pm.js';
import { DEFAULT_PROFILE, ReportedFailure, UsageError } from './profile.js';
import { registerQaCommands } from './qa.js';
import { registerReleaseCommands } from './release.js';
import { registerStatementCommands } from './statement.js';
import { registerTraceCommand } from './trace.js';
import { registerWorkCommands } from './work.js';

/** The first words that select the HTTP commands (the rest are the offline protocol tools). */
export const HTTP_GROUPS = ['pm', 'vendor', 'expert', 'qa', 'me', 'trace', 'ledger', 'release', 'contract', 'statement'] as const;

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function buildProgram(io: GoldlineIo): Command {
  const program = new Command('goldline')
    .description('Goldline over its HTTP API, by role. Offline protocol tools: goldline validate|diff|dry-run|quarantine (goldline -h).')
    .option('--endpoint <url>', 'API base URL (default: the profile\'s, or GOLDLINE_ENDPOINT)')
    .option('--token <jwt>', 'bearer token (default: the profile\'s token for --as, or GOLDLINE_TOKEN)')
    .option('--as <user>', 'whose token of the profile to use (pm, qa, expert, vendor-a, vendor-b)')
    .option('--profile <file>', `profile file with the endpoint and tokens (default ${DEFAULT_PROFILE}, or GOLDLINE_PROFILE)`)
    .option('--program <id>', "the program (default: the profile's)")
    .option('--json', 'print the API\'s JSON instead of tables')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  program
    .command('me')
    .description('who the token says you are')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, undefined);
      const me = await ctx.api.call<{ username: string; roles: string[]; workforceId?: string; actor: string }>('GET', '/v1/me');
      if (ctx.json) return ctx.printJson(me);
      io.out(`${me.actor} (roles ${me.roles.join(', ')}${me.workforceId ? `, workforce ${me.workforceId}` : ''}) at ${ctx.connection.endpoint}`);
    });
  registerPmCommands(program, io);
  const vendor = program.command('vendor').description('vendor: your batches, downloads, label uploads and their reports (--as vendor-a)');
  registerWorkCommands(vendor, io, undefined);
  registerDisputeCommands(program, io);
  registerExpertCommands(program, io);
  registerQaCommands(program, io);
  registerTraceCommand(program, io);
  registerLedgerCommands(program, io);
  registerDossierCommand(registerReleaseCommands(program, io), io);
  registerContractCommands(program, io);
  registerExamCommands(program, io);
  registerStatementCommands(program, io);
  registerProgramCommands(program, io);

  // Every command exits through exitOverride and prints its errors with our io.
  const configure = (c: Command) => {
    c.exitOverride().showHelpAfterError().configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
    for (const sub of c.commands) configure(sub);
  };
  for (const c of program.commands) configure(c);
  return program;
}

/** Runs one command line (without the leading `goldline`); returns the exit code. */
export async function runGoldline(argv: readonly string[], io: GoldlineIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" that exit 0; anything else is a usage error, already printed.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof ApiProblemError) {
      for (const line of describeProblem(e)) io.err(line);
      return EXIT.failed;
    }
    if (e instanceof ApiUnreachableError) {
      io.err(`error: ${e.message}`);
      return EXIT.failed;
    }
    if (e instanceof ReportedFailure) return EXIT.failed;
    io.err(`error: ${(e as Error).message ?? String(e)}`);
    return EXIT.failed;
  }
}
