// Help text, generated from the command table (src/cli/commands/index.ts).
import { allFlags, type CommandDef, type FlagDef } from './args.js';

const PROGRAM = 'tandem';

function flagValueText(f: FlagDef): string {
  if (f.kind === 'boolean') return '';
  if (f.choices && f.choices.length <= 4) return ' ' + f.choices.join('|');
  return ' ' + (f.value ?? 'VALUE');
}

function flagLabel(f: FlagDef): string {
  return `${f.short ? `-${f.short}, ` : ''}--${f.name}${flagValueText(f)}`;
}

function flagDescription(f: FlagDef): string {
  const notes: string[] = [];
  if (f.required) notes.push('required');
  if (f.multiple) notes.push('repeatable');
  if (f.kind === 'int' && !f.choices && (f.min !== undefined || f.max !== undefined)) {
    notes.push(f.max === undefined ? `≥ ${f.min}` : f.min === undefined ? `≤ ${f.max}` : `${f.min}–${f.max}`);
  }
  if (notes.length === 0) return f.description;
  // "… (default 30)" + notes → "… (default 30; 1–300)"
  if (f.description.endsWith(')')) return `${f.description.slice(0, -1)}; ${notes.join(', ')})`;
  return `${f.description} (${notes.join(', ')})`;
}

export function usageLine(def: CommandDef): string {
  const parts = [PROGRAM, ...def.path, ...(def.args ?? []).map((a) => a.name)];
  for (const f of def.flags ?? []) {
    if (f.required) parts.push(`--${f.name}${flagValueText(f)}`);
  }
  parts.push('[options]'); // --data, --json and --help at least
  return `Usage: ${parts.join(' ')}`;
}

function columns(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`.trimEnd());
}

export function commandHelp(def: CommandDef): string {
  const lines = [usageLine(def), '', def.summary];
  if (def.details?.length) lines.push('', ...def.details);
  if (def.args?.length) {
    lines.push('', 'Arguments:', ...columns(def.args.map((a) => [a.name, a.description])));
  }
  lines.push('', 'Options:', ...columns(allFlags(def).map((f) => [flagLabel(f), flagDescription(f)])));
  return lines.join('\n') + '\n';
}

export function groupHelp(group: string, defs: readonly CommandDef[]): string {
  const subs = defs.filter((d) => d.path[0] === group);
  const lines = [`Usage: ${PROGRAM} ${group} <command> [arguments] [options]`, '', 'Commands:'];
  lines.push(...columns(subs.map((d) => [[...d.path, ...(d.args ?? []).map((a) => a.name)].join(' '), d.summary])));
  lines.push('', `Run "${PROGRAM} ${group} <command> --help" for a command's options.`);
  return lines.join('\n') + '\n';
}

export function globalHelp(defs: readonly CommandDef[]): string {
  const lines = [
    `Usage: ${PROGRAM} <command> [arguments] [options]`,
    '',
    'Tandem: self-hosted two-factor authentication for Unix logins, compatible with Duo clients.',
    '',
    'Commands:',
    ...columns(defs.map((d) => [[...d.path, ...(d.args ?? []).map((a) => a.name)].join(' '), d.summary])),
    '',
    'Every command takes:',
    ...columns(
      allFlags({ path: [], summary: '', run: async () => 0 }).map((f) => [flagLabel(f), f.description]),
    ),
    '',
    `Run "${PROGRAM} <command> --help" (or "${PROGRAM} help <command>") for a command's options.`,
  ];
  return lines.join('\n') + '\n';
}
