/*
 * Starting, reaping and killing the helper. See spawn.h.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- trusted paths ----------------------------------------------------------------------- */

static int trusted(int fd, const char *what, int want_dir, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s: %s", what, strerror(errno));
		return -1;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a %s", what, want_dir ? "directory" : "regular file");
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, whylen, "%s: owned by uid %u, not root", what, (unsigned)st.st_uid);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "%s: writable by group or others", what);
		return -1;
	}
	return 0;
}

int th_open_trusted(const char *path, int *fd, char *canon, size_t canonlen, char *why, size_t whylen)
{
	char *real, *save = NULL, *comp, *next;
	char sofar[PATH_MAX] = "";
	int dfd, rc = -1;

	*fd = -1;
	if (path == NULL || path[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute path", path ? path : "(null)");
		return -1;
	}
	if ((real = realpath(path, NULL)) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (strlen(real) >= canonlen || strlen(real) >= sizeof(sofar)) {
		snprintf(why, whylen, "%s: path too long", path);
		free(real);
		return -1;
	}
	strcpy(canon, real);
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || trusted(dfd, "/", 1, why, whylen) != 0)
		goto out;
	for (comp = strtok_r(real, "/", &save); comp != NULL; comp = next) {
		next = strtok_r(NULL, "/", &save);
		int last = next == NULL;
		int nfd = openat(dfd, comp, last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
		    : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		dfd = nfd;
		strcat(sofar, "/");
		strcat(sofar, comp);            /* fits: sofar never grows past canon */
		if (dfd < 0) {
			snprintf(why, whylen, "%s: %s", sofar, strerror(errno));
			goto out;
		}
		if (trusted(dfd, sofar, !last, why, whylen) != 0)
			goto out;
		if (last) {
			*fd = dfd;
			dfd = -1;
			rc = 0;
		}
	}
	if (rc != 0 && dfd >= 0)
		snprintf(why, whylen, "%s: not a regular file", canon);
out:
	if (dfd >= 0)
		close(dfd);
	free(real);
	return rc;
}

/* ---- spawning ------------------------------------------------------------------------------ */

static void child_fail(const char *msg)
{
	ssize_t ignored = write(2, msg, strlen(msg));

	(void)ignored;
	_exit(127);
}

static void drop_privileges(const struct th_drop *d)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL) != 0 || setresgid(d->gid, d->gid, d->gid) != 0 || setresuid(d->uid, d->uid, d->uid) != 0)
		child_fail("[error] launcher: cannot drop privileges\n");
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != d->uid || eu != d->uid
	    || su != d->uid || rg != d->gid || eg != d->gid || sg != d->gid || getgroups(0, NULL) != 0)
		child_fail("[error] launcher: privilege drop did not stick\n");
	if (d->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		child_fail("[error] launcher: could regain root after the drop\n");
}

/* In the child after fork: only async-signal-safe calls. Never returns. */
static void child_exec(int fds[4], char *const argv[], const struct th_drop *drop)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	struct sigaction sa;
	sigset_t none;

	/* Move our four descriptors out of the way, then into 0, 1, 2 and 3. */
	for (int i = 0; i < 4; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			_exit(127);
	for (int i = 0; i < 4; i++)
		if (dup2(fds[i], i) != i)
			_exit(127);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
		_exit(127);
	if (close_range(4, ~0U, 0) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 4; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close((int)fd);
	}
	if (setsid() < 0)
		child_fail("[error] launcher: setsid failed\n");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);        /* fails harmlessly for KILL, STOP and reserved ones */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (drop != NULL)
		drop_privileges(drop);
	fexecve(3, argv, envp);
	child_fail("[error] launcher: cannot execute node\n");
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int th_spawn(struct tp_child *c, int node_fd, const char *node_path, const char *helper_path, const struct th_drop *drop, char *why, size_t whylen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	char *argv[] = { (char *)node_path, (char *)helper_path, NULL };
	pid_t pid;

	c->pid = -1;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->out_len = c->out_skip = c->err_len = 0;
	c->err_truncated = 0;
	c->err_lines = 0;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		int fds[4] = { in[0], out[1], err[1], node_fd };
		child_exec(fds, argv, drop);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->pid = pid;
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	close_pair(in);
	close_pair(out);
	close_pair(err);
	return -1;
}

/* ---- reaping --------------------------------------------------------------------------------- */

int th_finish(struct tp_child *c, int timeout_ms, int *status)
{
	long long deadline = tp_now_ms() + timeout_ms;
	int r;

	if (c->in_fd >= 0) {
		close(c->in_fd);
		c->in_fd = -1;
	}
	if ((r = tp_expect_eof(c, timeout_ms)) != TP_OK)
		return r;
	for (;;) {
		pid_t w = waitpid(c->pid, status, WNOHANG);
		if (w == c->pid) {
			c->pid = -1;
			return TP_OK;
		}
		if (w < 0 && errno != EINTR)
			return TP_IOERR;        /* e.g. reaped by someone else: we cannot know how it ended */
		if (tp_now_ms() >= deadline)
			return TP_TIMEOUT;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void th_kill(struct tp_child *c)
{
	if (c->pid <= 1)
		return;
	kill(-c->pid, SIGKILL);                 /* its session/process group, if setsid() ran */
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = -1;
}

void th_release(struct tp_child *c)
{
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->in_fd = c->out_fd = c->err_fd = -1;
	explicit_bzero(c->out_buf, sizeof(c->out_buf));
	explicit_bzero(c->err_buf, sizeof(c->err_buf));
	c->out_len = c->out_skip = c->err_len = 0;
}
