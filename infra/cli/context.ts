/** What every HTTP command needs: the client for its user, the io, `--json` and the program. */
import type { Command } from 'commander';
import { ApiClient } from './client.js';
import type { GoldlineIo } from './io.js';
import { type Connection, DEFAULT_PROFILE, type Profile, UsageError, parseProfile, resolveConnection } from './profile.js';

export interface GlobalOptions {
  endpoint?: string;
  token?: string;
  as?: string;
  profile?: string;
  json?: boolean;
  program?: string;
}

export interface CommandContext {
  io: GoldlineIo;
  api: ApiClient;
  connection: Connection;
  json: boolean;
  /** The program: `--program`, else the profile's. Throws a UsageError when neither names one. */
  program(): string;
  /** Prints a value as JSON (for `--json`). */
  printJson(value: unknown): void;
}

/** Builds the context of one command run; `defaultUser` is the profile token used without `--as`. */
export async function contextOf(cmd: Command, io: GoldlineIo, defaultUser: string | undefined): Promise<CommandContext> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const profilePath = opts.profile ?? io.env.GOLDLINE_PROFILE ?? DEFAULT_PROFILE;
  let profile: Profile | undefined;
  if (!(opts.endpoint && opts.token)) {
    let text: string | undefined;
    try {
      text = new TextDecoder().decode(await io.readBytes(profilePath, 1024 * 1024));
    } catch (e) {
      if (opts.profile) throw new UsageError(`cannot read profile ${profilePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (text !== undefined) profile = parseProfile(text, profilePath);
  }
  const connection = resolveConnection(opts, defaultUser, profile, profilePath, io.env);
  return {
    io,
    connection,
    api: new ApiClient(connection.endpoint, connection.token, io),
    json: opts.json === true,
    program() {
      const p = opts.program ?? connection.program;
      if (!p) throw new UsageError('which program? pass --program ID (or set "program" in the profile)');
      return p;
    },
    printJson: (value) => io.out(JSON.stringify(value, null, 2)),
  };
}

/** Parses a positive integer option; a usage error names the option otherwise. */
export function positiveInt(name: string, max = 1_000_000_000) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${name} must be a whole number from 1 to ${max} (got "${value}")`);
    return n;
  };
}

/** Parses a non-negative number option. */
export function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number ≥ 0 (got "${value}")`);
    return n;
  };
}

/** Splits `protocolId@version`. */
export function protocolRefOption(value: string): { protocolId: string; version: number; ref: string } {
  const m = /^([a-z0-9][a-z0-9._-]{0,63})@([1-9]\d{0,8})$/.exec(value);
  if (!m) throw new UsageError(`--protocol must be id@version, e.g. chest-xray@2 (got "${value}")`);
  return { protocolId: m[1], version: Number(m[2]), ref: value };
}
