/*
 * Starting the helper safely: trusted-path checks (root-owned, not group/other-writable, every
 * directory up to /), fork + fexecve with an environment built from nothing, an optional
 * privilege drop in the child, and reaping with a deadline.
 */
#ifndef TANDEM_SPAWN_H
#define TANDEM_SPAWN_H

#include <sys/types.h>
#include "protocol.h"

/* Where both launchers find node and the helper, unless the Makefile says otherwise. */
#ifndef TANDEM_NODE
#define TANDEM_NODE "/usr/bin/node"
#endif
#ifndef TANDEM_HELPER
#define TANDEM_HELPER "/usr/lib/tandem/tandem-pam-helper.mjs"
#endif

/*
 * Credentials the child switches to before exec (login_tandem's privilege separation): real,
 * effective and saved ids all set, supplementary groups cleared. uid 0 / gid 0 is allowed and
 * means "fully root" (login_tandem's offline check, PROTOCOL.md); any other uid must not be able
 * to take root back, which the child checks.
 */
struct th_drop {
	uid_t uid;
	gid_t gid;
};

/*
 * Opens `path` (absolute) if it resolves to a regular file that root owns and only root can
 * write, in directories that root owns and only root can write, all the way up to /. The walk
 * uses openat(O_NOFOLLOW) on the canonical path, so what is checked is what is opened.
 * Returns 0 with an O_CLOEXEC descriptor in *fd and the canonical path in canon, or -1 with a
 * reason in why.
 */
int th_open_trusted(const char *path, int *fd, char *canon, size_t canonlen, char *why, size_t whylen);

/*
 * Starts `node_path helper_path` by fexecve(node_fd) with stdin/stdout/stderr on pipes, in a
 * new session, all signals at their defaults, no other descriptors, and the environment
 * PATH=/usr/bin:/bin LANG=C.UTF-8 only. With drop, the child takes those credentials (no
 * supplementary groups) and checks they stuck. The log sink in c is kept. Returns 0 or -1.
 */
int th_spawn(struct tp_child *c, int node_fd, const char *node_path, const char *helper_path, const struct th_drop *drop, char *why, size_t whylen);

/* After RESULT: closes the helper's stdin, waits (deadline) for EOF and its exit. TP_OK with
 * the wait status in *status, or a TP_ error (the helper is still there: call th_kill). */
int th_finish(struct tp_child *c, int timeout_ms, int *status);

/* SIGKILL to the helper (and its process group) and reap it. Safe to call twice. */
void th_kill(struct tp_child *c);

/* Closes the pipes and zeroes the buffers. */
void th_release(struct tp_child *c);

#endif
