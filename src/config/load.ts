// Builds the frozen Settings from command-line overrides > environment > config.json > defaults.
// Every layer is validated, and every problem is reported at once, so an operator fixes a broken
// configuration in one pass instead of one error per restart.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Settings } from './settings.js';
import { SETTING_SPECS, SETTINGS, isSettingKey, quote, sanitiseNodeId, type SettingSpec, type Source } from './schema.js';

export const CONFIG_FILE = 'config.json';
/** Far above any real configuration; stops a runaway file from being read into memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadSettingsOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  overrides?: Partial<Record<keyof Settings, unknown>>;
}

type RawFile = { values: Record<string, unknown>; exists: boolean };

/** Reads config.json as a plain object; problems are appended, never thrown. */
function readConfigFile(path: string, problems: string[]): RawFile {
  let text: string;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted as config.json must not hang start-up.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { values: {}, exists: false };
    problems.push(`${CONFIG_FILE}: cannot be read (${code ?? 'error'})`);
    return { values: {}, exists: true };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      problems.push(`${CONFIG_FILE}: not a regular file`);
      return { values: {}, exists: true };
    }
    if (st.size > MAX_CONFIG_BYTES) {
      problems.push(`${CONFIG_FILE}: larger than ${MAX_CONFIG_BYTES} bytes`);
      return { values: {}, exists: true };
    }
    text = readFileSync(fd, 'utf8');
  } catch (e) {
    problems.push(`${CONFIG_FILE}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    return { values: {}, exists: true };
  } finally {
    closeSync(fd);
  }
  let parsed: unknown;
  try {
    // JSON.parse's own message quotes the text around the error, which may be a database
    // password: report only that the file is not JSON.
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    problems.push(`${CONFIG_FILE}: not valid JSON`);
    return { values: {}, exists: true };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${CONFIG_FILE}: must be a JSON object { "setting": value, … }`);
    return { values: {}, exists: true };
  }
  return { values: parsed as Record<string, unknown>, exists: true };
}

function label(spec: SettingSpec<keyof Settings>, source: Source): string {
  if (source === 'env') return spec.env;
  if (source === 'file') return `${CONFIG_FILE}: ${spec.key}`;
  return `command line: ${spec.key}`;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

export function loadSettings({ dataDir, env, overrides = {} }: LoadSettingsOptions): Settings {
  const problems: string[] = [];
  const file = readConfigFile(join(dataDir, CONFIG_FILE), problems);

  for (const k of Object.keys(file.values)) {
    if (!isSettingKey(k)) problems.push(`${CONFIG_FILE}: unknown key ${quote(k)}`);
  }
  for (const k of Object.keys(overrides)) {
    if (!isSettingKey(k)) problems.push(`command line: unknown setting ${quote(k)}`);
  }

  const out: Record<string, unknown> = {};
  for (const spec of SETTING_SPECS) {
    // Each present layer is validated even when a higher one wins: a broken config.json value
    // would otherwise surface only on the day the environment variable is removed.
    const layers: [Source, unknown][] = [];
    if (Object.hasOwn(overrides, spec.key) && overrides[spec.key] !== undefined) layers.push(['override', overrides[spec.key]]);
    const envValue = env[spec.env];
    // An empty variable counts as unset (the usual shell convention, e.g. `TANDEM_X= cmd`).
    if (envValue !== undefined && envValue !== '') layers.push(['env', envValue]);
    if (Object.hasOwn(file.values, spec.key)) layers.push(['file', file.values[spec.key]]);

    let chosen: { value: unknown } | undefined;
    for (const [source, raw] of layers) {
      const r = spec.parse(raw, source);
      if (!r.ok) problems.push(`${label(spec, source)}: ${r.error}`);
      else chosen ??= { value: r.value };
    }
    out[spec.key] = chosen ? chosen.value : spec.key === 'nodeId' ? sanitiseNodeId(hostname()) : structuredClone(spec.default);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(out as unknown as Settings);
}

/**
 * Creates or updates `<dataDir>/config.json` with `partial` (init stores the host list here).
 * Other keys already in the file are kept. The write is atomic (temp file + rename) so a crash
 * never leaves half a configuration. Returns false, writing nothing, when the file already
 * holds these values (re-running init must not touch it).
 */
export function writeConfigFile(dataDir: string, partial: Partial<Settings>): boolean {
  const path = join(dataDir, CONFIG_FILE);
  const problems: string[] = [];
  const current = readConfigFile(path, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const next: Record<string, unknown> = { ...current.values };
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    if (!isSettingKey(k)) {
      problems.push(`${CONFIG_FILE}: unknown key ${quote(k)}`);
      continue;
    }
    const spec = SETTINGS[k] as SettingSpec<keyof Settings>;
    const serialised = spec.toFile(v as never);
    const check = spec.parse(serialised, 'file');
    if (!check.ok) problems.push(`${CONFIG_FILE}: ${k}: ${check.error}`);
    else next[k] = serialised;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (current.exists && isDeepStrictEqual(next, current.values)) return false;

  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  // 0600: config.json may hold a database URL with a password.
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(next, null, 2) + '\n');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    return true;
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw e;
  }
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultText(spec: SettingSpec<keyof Settings>): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc;
  const v = spec.toFile(spec.default as never);
  return '`' + (Array.isArray(v) ? v.join(',') : String(v)) + '`';
}

/** docs/configuration.md, rendered from the table (a test keeps the file equal to this). */
export function settingsDocsMarkdown(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by settingsDocsMarkdown(); do not edit by hand. -->',
    '',
    'Each setting can be given, from highest to lowest precedence, as a command-line option, an',
    'environment variable, a key in `<data dir>/config.json`, or left at its default. An empty',
    'environment variable counts as unset. Unknown keys in `config.json` are errors; every problem',
    'is reported at once, naming the key and where the value came from.',
    '',
    'The data directory is `--data DIR`, else `$TANDEM_DATA`, else `./data`. The master key is',
    '`<data dir>/master.key` unless `$TANDEM_MASTER_KEY_FILE` (an absolute path) names another file.',
    '',
    '| Setting (config.json key) | Environment variable | Value | Default | Description |',
    '|---|---|---|---|---|',
  ];
  for (const spec of SETTING_SPECS) {
    lines.push(`| \`${spec.key}\` | \`${spec.env}\` | ${mdCell(spec.type)} | ${mdCell(defaultText(spec))} | ${mdCell(spec.description)} |`);
  }
  return lines.join('\n') + '\n';
}
