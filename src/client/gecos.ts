// The Duo user name from the GECOS field (duo_unix.md §2.1, pam_duo.c/login_duo.c):
//   - only when `send_gecos` or `gecos_username_pos` is set, and (login_tandem) no `-f` was given;
//   - an empty GECOS field: warn "Empty GECOS field" and use the login name;
//   - `gecos_username_pos = N`: split on `gecos_delim` (default ','), take field N (1-based); if
//     it is missing or empty, log "Could not parse GECOS field" and use the login name;
//   - otherwise (send_gecos alone): the whole GECOS field.

export interface GecosOptions {
  sendGecos: boolean;
  gecosDelim: string;
  gecosUsernamePos: number | null;
}

export interface GecosResult {
  username: string;
  /** A log line for the fallbacks; null when nothing is worth saying. */
  note: 'Empty GECOS field' | 'Could not parse GECOS field' | null;
}

/** duo_split_at: the field after the position-th delimiter, up to the next one; null if there are fewer. */
export function splitAt(s: string, delimiter: string, position: number): string | null {
  const fields = s.split(delimiter);
  return position < fields.length ? fields[position]! : null;
}

export function gecosUsername(loginName: string, gecos: string, opts: GecosOptions): GecosResult {
  if (!opts.sendGecos && opts.gecosUsernamePos === null) return { username: loginName, note: null };
  if (gecos.length === 0) return { username: loginName, note: 'Empty GECOS field' };
  if (opts.gecosUsernamePos !== null) {
    const field = splitAt(gecos, opts.gecosDelim, opts.gecosUsernamePos - 1);
    if (field === null || field === '') return { username: loginName, note: 'Could not parse GECOS field' };
    return { username: field, note: null };
  }
  return { username: gecos, note: null };
}
