// Switching the effective uid/gid for local mode's file I/O (seteuid, like upstream's setfsuid),
// so the secret file is opened, locked and replaced as its user. Separate from ga-local.ts because
// it touches process-wide state and the helper wires the real switch in.

/** Switches the effective ids for file I/O and back (seteuid, as upstream's setfsuid). */
export interface IdSwitch {
  enter(uid: number, gid: number): void;
  leave(): void;
}

export const processIdSwitch: IdSwitch = (() => {
  let saved: { euid: number; egid: number; groups: number[] } | null = null;
  return {
    enter(uid: number, gid: number) {
      if (process.geteuid?.() !== 0) return;
      saved = { euid: process.geteuid(), egid: process.getegid!(), groups: process.getgroups!() };
      process.setgroups!([gid]);
      process.setegid!(gid);
      process.seteuid!(uid);
    },
    leave() {
      if (saved === null) return;
      process.seteuid!(saved.euid);
      process.setegid!(saved.egid);
      process.setgroups!(saved.groups);
      saved = null;
    },
  };
})();
