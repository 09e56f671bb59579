/*
 * login_tandem: Tandem's drop-in for login_duo (an sshd ForceCommand, or a login shell
 * wrapper). Installed setuid root. It starts the helper as the unprivileged account
 * TANDEM_PRIVSEP_USER (which alone can read the config), relays its prompts on the terminal,
 * and on RESULT success runs the command (or a login shell) as the invoking user.
 *
 *   login_tandem [-v] [-c config] [-d] [-f user] [-h host] [-- command ...]
 *
 * -c and -f are root's only. The user and host are those of login_duo: -f names the Tandem user
 * (the shell still runs as the real uid), the address is SSH_CONNECTION's first field, else -h.
 *
 * Hybrid mode ([tandem] offline_fallback = local): the helper above never holds root, so it
 * cannot read the root-owned local code file. When it found the server unreachable before any
 * auth request, it answers RESULT deny offline-fallback; only then, this launcher (the privileged
 * parent) starts a second helper, as root, with ARG offline-check: it re-reads the config, runs
 * the local check only (no network) and answers as usual. Never after any other answer, and
 * never unless the config said `offline_fallback = local` under [tandem] when this login started
 * (read here, as root, before any helper ran) and is still the same file (inode, size, mtime,
 * ctime) afterwards: without hybrid mode no helper ever runs as root, whatever the first says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "protocol.h"
#include "spawn.h"

#ifndef TANDEM_PRIVSEP_USER
#define TANDEM_PRIVSEP_USER "_tandem"
#endif
#ifndef TANDEM_LOGIN_CONF
#define TANDEM_LOGIN_CONF "/etc/tandem/login_tandem.conf"
#endif
#ifndef TANDEM_VERSION
#define TANDEM_VERSION "0.1.0"
#endif
#define TIMEOUT_MS (180 * 1000)
#ifndef TANDEM_PROMPT_TIMEOUT_MS
#define TANDEM_PROMPT_TIMEOUT_MS (180 * 1000)
#endif
#define MAX_ANSWER 1024
/* PROTOCOL.md, "login_tandem's offline check": the reason that asks for it, and the ARG of the run. */
#define OFFLINE_REASON "offline-fallback"
#define OFFLINE_ARG "offline-check"

static const char *const env_whitelist[] = { "SSH_CONNECTION", "SSH_ORIGINAL_COMMAND", "SUDO_COMMAND", "SUDO_USER", "DUO_PASSCODE" };
static const int caught[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP };

static int debug;
static int tty_in = -1, tty_out = -1;           /* the terminal, when stdin is one */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;
static volatile pid_t helper_pid = -1;
static struct sigaction old_actions[sizeof(caught) / sizeof(caught[0])];

/* ---- terminal and signals ------------------------------------------------------------------- */

static void restore_tty(void)
{
	if (echo_off) {
		tcsetattr(tty_in, TCSAFLUSH, &saved_tio);
		echo_off = 0;
	}
}

static void on_signal(int sig)
{
	static const char msg[] = "\nTandem login failed\n";
	ssize_t ignored;

	(void)sig;
	if (echo_off)
		tcsetattr(tty_in, TCSAFLUSH, &saved_tio);
	if (helper_pid > 1) {
		kill(-helper_pid, SIGKILL);
		kill(helper_pid, SIGKILL);
		while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)ignored;
	_exit(EXIT_FAILURE);
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		sa.sa_handler = caught[i] == SIGTSTP ? SIG_IGN : on_signal;
		sigaction(caught[i], &sa, &old_actions[i]);
	}
}

static void uncatch_signals(void)
{
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaction(caught[i], &old_actions[i], NULL);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	restore_tty();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static void log_sink(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	if (debug)
		fprintf(stderr, "[%d] %s\n", prio, msg);
	else if (prio != LOG_DEBUG)
		syslog(prio, "%s", msg);
}

/* ---- the conversation on the terminal -------------------------------------------------------- */

static void put(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static int ui_prompt(void *ctx, int echo, const char *text, char **answer)
{
	char *buf;
	size_t n = 0;
	int too_long = 0, got_newline = 0;

	(void)ctx;
	if (tty_in < 0)
		return -1;              /* headless: the helper makes its one silent attempt itself */
	if ((buf = calloc(1, MAX_ANSWER + 1)) == NULL)
		return -1;
	/* Echo off before the prompt is shown, so nothing typed after it is echoed or flushed. */
	if (!echo && tcgetattr(tty_in, &saved_tio) == 0) {
		struct termios t = saved_tio;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		echo_off = 1;
		if (tcsetattr(tty_in, TCSAFLUSH, &t) != 0)
			restore_tty();
	}
	put(tty_out, text);
	/*
	 * Every prompt has a deadline: a user who walks away (e.g. from a number-matching prompt)
	 * must not hold this setuid process and its helper forever. Past it the answer is "none",
	 * which the helper treats as a cancelled conversation: deny.
	 */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char ch;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
		struct pollfd pfd = { .fd = tty_in, .events = POLLIN };
		int ready = waited >= TANDEM_PROMPT_TIMEOUT_MS ? 0 : poll(&pfd, 1, (int)(TANDEM_PROMPT_TIMEOUT_MS - waited));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			n = 0;
			got_newline = 0;
			break;
		}
		ssize_t r = read(tty_in, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n') {
			got_newline = r > 0;
			break;
		}
		if (n < MAX_ANSWER)
			buf[n++] = ch;
		else
			too_long = 1;
	}
	if (echo_off) {
		restore_tty();
		put(tty_out, "\n");
	}
	if (too_long || (!got_newline && n == 0)) {
		explicit_bzero(buf, MAX_ANSWER + 1);
		free(buf);
		return -1;
	}
	*answer = buf;
	return 0;
}

static void ui_message(void *ctx, int is_error, const char *text)
{
	FILE *f = is_error ? stderr : stdout;

	(void)ctx;
	fprintf(f, "%s\n", text);
	fflush(f);
}

/* ---- request ------------------------------------------------------------------------------ */

struct request {
	const char *user, *rhost, *tty, *conf, *host, *command;
	int has_c, has_f, has_command;
};

static int send_request(struct tp_child *c, const struct request *q, int offline_check)
{
	char num[32], arg[TP_MAX_LINE];
	int r;

#define SEND(verb, name, value) do { if ((r = tp_send(c, verb, name, value, TIMEOUT_MS)) != TP_OK) return r; } while (0)
	SEND("TANDEM-PAM", NULL, "1");
	SEND("ITEM", "mode", "login");
	SEND("ITEM", "user", q->user);
	if (q->rhost != NULL)
		SEND("ITEM", "rhost", q->rhost);
	SEND("ITEM", "service", "login_tandem");
	if (q->tty != NULL)
		SEND("ITEM", "tty", q->tty);
	snprintf(num, sizeof(num), "%u", (unsigned)getuid());
	SEND("ITEM", "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)geteuid());
	SEND("ITEM", "euid", num);
	snprintf(arg, sizeof(arg), "conf=%s", q->conf);
	SEND("ARG", NULL, arg);
	if (debug)
		SEND("ARG", NULL, "debug");
	if (q->has_f) {
		snprintf(arg, sizeof(arg), "user=%s", q->user);
		SEND("ARG", NULL, arg);
	}
	if (q->host != NULL) {
		snprintf(arg, sizeof(arg), "host=%s", q->host);
		SEND("ARG", NULL, arg);
	}
	if (q->has_command) {
		if ((size_t)snprintf(arg, sizeof(arg), "command=%s", q->command) >= sizeof(arg))
			return TP_TOOLONG;
		SEND("ARG", NULL, arg);
	}
	if (offline_check)
		SEND("ARG", NULL, OFFLINE_ARG);
	for (size_t i = 0; i < sizeof(env_whitelist) / sizeof(env_whitelist[0]); i++) {
		const char *v = getenv(env_whitelist[i]);
		if (v != NULL)
			SEND("ENV", env_whitelist[i], v);
	}
	SEND("END", NULL, NULL);
#undef SEND
	return TP_OK;
}

/* ---- is hybrid mode configured? ------------------------------------------------------------ */

#define MAX_CONF (64 * 1024)

struct conf_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

static void conf_id_of(const struct stat *st, struct conf_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static int same_conf(const struct conf_id *a, const struct conf_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtim.tv_sec == b->mtim.tv_sec
	    && a->mtim.tv_nsec == b->mtim.tv_nsec && a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\f' || e[-1] == '\v'))
		*--e = '\0';
	return s;
}

/*
 * A gate, not the parser: 1 when some line under [tandem] reads `offline_fallback = local` (or
 * `:`), with the INI rules of src/client/config/ini.ts for comments. The helper's parser still
 * decides; this only keeps the root run away from configs that do not ask for it. *id: the file.
 */
static int offline_configured(const char *path, struct conf_id *id)
{
	char *buf, *line, *save = NULL, section[64] = "";
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, found = 0;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_CONF || (buf = calloc(1, MAX_CONF + 1)) == NULL) {
		close(fd);
		return 0;
	}
	conf_id_of(&st, id);
	while (len < MAX_CONF && (n = read(fd, buf + len, MAX_CONF - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	for (line = strtok_r(buf, "\n", &save); line != NULL && !found; line = strtok_r(NULL, "\n", &save)) {
		char *t = trim(line), *sep, *key, *value;

		if (t[0] == '\0' || t[0] == ';' || t[0] == '#')
			continue;
		if (t[0] == '[') {
			char *end = strchr(t, ']');
			if (end == NULL)
				break;
			*end = '\0';
			snprintf(section, sizeof(section), "%s", trim(t + 1));
			continue;
		}
		if ((sep = strpbrk(t, "=:")) == NULL)
			continue;
		*sep = '\0';
		key = trim(t);
		value = sep + 1;
		for (char *p = value + 1; *value != '\0' && *p != '\0'; p++)
			if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				break;
			}
		value = trim(value);
		found = strcmp(section, "tandem") == 0 && strcmp(key, "offline_fallback") == 0 && strcmp(value, "local") == 0;
	}
	explicit_bzero(buf, MAX_CONF + 1);              /* it holds the skey */
	free(buf);
	return found;
}

/* ---- after success ------------------------------------------------------------------------ */

struct account {
	char *pw_name, *pw_shell;
	uid_t pw_uid;
	gid_t pw_gid;
};

static void __attribute__((noreturn)) exec_as_user(const struct account *pw, const char *cmd)
{
	char *pc = getenv("DUO_PASSCODE");
	const char *shell = pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
	const char *base = strrchr(shell, '/') ? strrchr(shell, '/') + 1 : shell;
	char argv0[256];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0
	    || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		die("couldn't drop privileges: %s", strerror(errno));
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != pw->pw_uid || eu != pw->pw_uid
	    || su != pw->pw_uid || rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid
	    || (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)))
		die("couldn't drop privileges");
	if (pc != NULL)
		explicit_bzero(pc, strlen(pc));
	unsetenv("DUO_PASSCODE");
	if (cmd != NULL) {
		execl(shell, base, "-c", cmd, (char *)NULL);
	} else {
		if ((size_t)snprintf(argv0, sizeof(argv0), "-%s", base) >= sizeof(argv0))
			die("%s: Invalid argument", shell);
		execl(shell, argv0, (char *)NULL);
	}
	die("%s: %s", shell, strerror(errno));
}

/* ---- main ----------------------------------------------------------------------------------- */

static char *join_args(int argc, char **argv)
{
	size_t n = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((s = calloc(1, n)) == NULL)
		die("out of memory");
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void usage(void)
{
	die("Usage: login_tandem [-v] [-c config] [-d] [-f user] [-h host] [-- prog [args...]]");
}

/*
 * Runs the helper once, with drop's credentials; 1 if it said success and exited 0. For the
 * first run, *offline is set when the helper asked for the offline check (RESULT deny
 * offline-fallback, exit 0); the offline run (offline_check) never asks again.
 */
static int run_helper(const struct request *q, const struct th_drop *drop, int offline_check, int *offline)
{
	static struct tp_child child;
	const struct tp_ui ui = { .ctx = NULL, .prompt = ui_prompt, .message = ui_message, .setauthtok = NULL };
	char why[PATH_MAX + 128], node[PATH_MAX], helper[PATH_MAX], reason[256] = "";
	enum tp_outcome outcome = TP_DENY;
	int node_fd, helper_fd, r, status = 0;
	struct tp_child *c = &child;

	*offline = 0;
	c->log = log_sink;
	if (th_open_trusted(TANDEM_NODE, &node_fd, node, sizeof(node), why, sizeof(why)) != 0) {
		tp_logf(c, LOG_ERR, "refusing node: %s", why);
		return 0;
	}
	if (th_open_trusted(TANDEM_HELPER, &helper_fd, helper, sizeof(helper), why, sizeof(why)) != 0) {
		tp_logf(c, LOG_ERR, "refusing helper: %s", why);
		close(node_fd);
		return 0;
	}
	close(helper_fd);
	catch_signals();
	r = th_spawn(c, node_fd, node, helper, drop, why, sizeof(why));
	close(node_fd);
	if (r != 0) {
		tp_logf(c, LOG_ERR, "cannot start the helper: %s", why);
		uncatch_signals();
		return 0;
	}
	helper_pid = c->pid;
	if ((r = send_request(c, q, offline_check)) != TP_OK)
		tp_logf(c, LOG_ERR, "writing the request: %s", tp_strerror(r));
	else if ((r = tp_converse(c, &ui, TIMEOUT_MS, &outcome, reason, sizeof(reason))) != TP_OK)
		tp_logf(c, LOG_ERR, "helper conversation failed: %s", tp_strerror(r));
	else if ((r = th_finish(c, TIMEOUT_MS, &status)) != TP_OK)
		tp_logf(c, LOG_ERR, "after RESULT: %s", tp_strerror(r));
	restore_tty();
	if (r != TP_OK)
		th_kill(c);
	helper_pid = -1;
	th_release(c);
	uncatch_signals();
	if (r != TP_OK)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tp_logf(c, LOG_ERR, WIFSIGNALED(status) ? "helper killed by signal %d" : "helper exited with status %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return 0;
	}
	if (!offline_check && outcome == TP_DENY && strcmp(reason, OFFLINE_REASON) == 0) {
		tp_logf(c, LOG_NOTICE, "user %s: server unreachable, running the offline fallback check as root", q->user);
		*offline = 1;
		return 0;
	}
	tp_logf(c, outcome == TP_SUCCESS ? LOG_INFO : LOG_NOTICE, "user %s: %s%s%s%s", q->user, offline_check ? "offline check: " : "",
	    outcome == TP_SUCCESS ? "success" : outcome == TP_IGNORE ? "ignore (a failure for login)" : "deny",
	    reason[0] ? ": " : "", reason);
	return outcome == TP_SUCCESS;
}

/*
 * The helper as TANDEM_PRIVSEP_USER; then, only if it asked for it, the offline check in a
 * second helper as root (all ids 0, no supplementary groups): the root-owned code file is
 * readable by root alone, and that run never talks to the network. 1 on success.
 */
static int authenticate(const struct request *q, const struct th_drop *drop)
{
	static const struct th_drop as_root = { .uid = 0, .gid = 0 };
	struct tp_child logger = { .log = log_sink };
	struct conf_id before = { 0 }, after = { 0 };
	struct stat st;
	int offline = 0, again = 0;
	int hybrid = offline_configured(q->conf, &before);

	if (run_helper(q, drop, 0, &offline))
		return 1;
	if (!offline)
		return 0;
	if (!hybrid) {
		tp_logf(&logger, LOG_ERR, "user %s: the helper asked for the offline check, but %s does not set offline_fallback = local: denied", q->user, q->conf);
		return 0;
	}
	if (stat(q->conf, &st) == 0)
		conf_id_of(&st, &after);
	if (!same_conf(&before, &after)) {
		tp_logf(&logger, LOG_ERR, "user %s: %s changed during the login: no offline check, denied", q->user, q->conf);
		return 0;
	}
	return run_helper(q, &as_root, 1, &again);
}

int main(int argc, char **argv)
{
	struct request q = { .conf = TANDEM_LOGIN_CONF };
	struct passwd *pw, *ps;
	struct account self;
	struct th_drop drop;
	char rhost[256];
	int opt;

	while ((opt = getopt(argc, argv, "+vc:df:h:")) != -1) {
		switch (opt) {
		case 'v':
			die("login_tandem " TANDEM_VERSION);
		case 'c':
			q.conf = optarg;
			q.has_c = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			q.user = optarg;
			q.has_f = 1;
			break;
		case 'h':
			q.host = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (getuid() != 0 && (q.has_c || q.has_f))
		die("Only root may specify -c or -f");
	if (geteuid() != 0)
		die("login_tandem must be installed setuid root");
	openlog("login_tandem", LOG_PID, LOG_AUTHPRIV);

	if ((pw = getpwuid(getuid())) == NULL)
		die("Who are you?");
	self.pw_uid = pw->pw_uid;     /* copied: getpwnam below reuses getpwuid's storage */
	self.pw_gid = pw->pw_gid;
	self.pw_name = strdup(pw->pw_name);
	self.pw_shell = strdup(pw->pw_shell ? pw->pw_shell : "");
	if (self.pw_name == NULL || self.pw_shell == NULL)
		die("out of memory");
	if ((ps = getpwnam(TANDEM_PRIVSEP_USER)) == NULL)
		die("User '%s' not found", TANDEM_PRIVSEP_USER);
	if (ps->pw_uid == 0)
		die("User '%s' must not be root", TANDEM_PRIVSEP_USER);
	drop.uid = ps->pw_uid;
	drop.gid = ps->pw_gid;

	if (q.user == NULL)
		q.user = self.pw_name;
	q.has_command = argc > 0;
	q.command = argc > 0 ? join_args(argc, argv) : getenv("SSH_ORIGINAL_COMMAND");
	const char *conn = getenv("SSH_CONNECTION");
	if (conn != NULL && conn[0] != '\0') {
		snprintf(rhost, sizeof(rhost), "%.*s", (int)strcspn(conn, " "), conn);
		q.rhost = rhost;
	} else {
		q.rhost = q.host;
	}
	if (isatty(STDIN_FILENO)) {
		q.tty = ttyname(STDIN_FILENO);
		if ((tty_in = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
			tty_out = tty_in;
		} else {
			tty_in = STDIN_FILENO;
			tty_out = STDOUT_FILENO;
		}
	}

	if (!authenticate(&q, &drop))
		die("Tandem login failed");
	if (tty_in > STDERR_FILENO)
		close(tty_in);
	exec_as_user(&self, q.command);
}
