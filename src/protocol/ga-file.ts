// The google-authenticator secret file (`~/.google_authenticator`), as written by the
// `google-authenticator` CLI and read/rewritten by pam_google_authenticator.so
// (reference: ../shared/reference/google_authenticator.md §1). Pure: no I/O, no clock.
//
// API
// ---
// Creating a new file (the enrolment CLI):
//   formatNewGaFile(spec: NewGaFileSpec): string
//     Exactly what `google-authenticator` writes: line 1 the base32 secret, then the option lines
//     in upstream's order (RATE_LIMIT, WINDOW_SIZE, STEP_SIZE, DISALLOW_REUSE, then TOTP_AUTH or
//     `HOTP_COUNTER 1`), then the scratch codes, every line ending in a bare LF. Throws
//     GaFileError('bad_spec') for values outside the ranges the file allows.
//
// Reading and editing an existing file, byte-exact (the PAM module):
//   parseGaFileBytes(bytes: Uint8Array): GaFile   size 1 byte..64 KiB, no NUL (else GaFileError)
//   parseGaFile(text: string): GaFile              same; `text` holds one char per byte (latin1)
//   serializeGaFile(f: GaFile): string             the file again (latin1); parse→serialize is
//                                                  the identity on every accepted input
//   gaFileToBytes(f): Buffer
//   GaFile = { secretLine, lines }: line 1 and the following lines, each with its own
//     terminator kept verbatim (a "line" ends at the first CR or LF; its terminator is the whole
//     run of CR/LF after it, as upstream scans). Treat it as immutable: the editors return a copy.
//
//   getGaOption(f, key): string | null     first `" KEY` line's value, leading blanks stripped
//   setGaOption(f, key, value): GaFile     upstream's set_cfg_value: replace the first line of
//                                          that key with `" KEY VALUE\n`, delete later
//                                          duplicates, or insert right after line 1
//   hasTotpAuth(f): boolean                upstream's substring test for `" TOTP_AUTH`
//   decodeGaSecret(line): Buffer           upstream's lenient base32 (GaFileError('bad_secret'))
//   scratchCodes(f): GaScratchCode[]       usable codes (the walk stops at the first garbage line)
//   removeLine(f, index): GaFile           drop a line (a used scratch code) with its terminator
//   Typed readers, each throwing GaFileError with upstream's semantics (see the table in §1.3):
//     readHotpCounter, readWindowSize, readStepSize, readRateLimit, readDisallowReuse,
//     readTimeSkew, readResettingTimeSkew, readLastLogins
//   describeGaFile(f): GaFileSummary       everything at once, for tools (`tandem-authenticator`
//                                          or diagnostics); invalid values appear as `null` +
//                                          an entry in `problems`.
//
// Unknown keywords and any other bytes are preserved untouched, as upstream does.
//
// This module is the format's public surface; the code lives in ga-file-lines.ts (line model,
// parse/serialize, raw options), ga-file-readers.ts (secret, scratch codes, typed readers,
// summary) and ga-file-new.ts (new files for the CLI).
export * from './ga-file-lines.js';
export * from './ga-file-readers.js';
export * from './ga-file-new.js';
