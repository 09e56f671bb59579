/*
 * pam_tandem.so: the PAM side of Tandem. It does no 2FA itself: it starts the helper
 * (`node tandem-pam-helper.mjs`, both root-owned and root-writable only), hands it the PAM
 * items, module arguments and a few whitelisted variables (pam/PROTOCOL.md), relays its
 * prompts through the application's conversation, and maps its RESULT to a PAM code. Anything
 * unexpected (a bad line, a deadline, a crash, a non-zero exit) is PAM_AUTH_ERR.
 *
 *   auth required pam_tandem.so [conf=FILE] [debug] [timeout=SECONDS] [helper=PATH] [node=PATH] ...
 *
 * Every argument, known or not, is also passed to the helper verbatim (ARG lines).
 *
 * Logging: pam_syslog (authpriv, "pam_tandem(<service>:auth): ...", helper lines prefixed
 * "helper: "). In local mode (`mode=local`, pam_google_authenticator's behaviour) it logs the way
 * pam_google_authenticator does, so log parsers and fail2ban filters written for it keep working:
 * openlog("<service>(pam_google_auth)", LOG_CONS|LOG_PID, LOG_AUTHPRIV), syslog, closelog for each
 * message, the helper's lines (upstream's texts) as they are, and our own outcome line only with
 * `debug` (upstream has no such line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <limits.h>
#include <sys/wait.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "protocol.h"
#include "spawn.h"

#define DEFAULT_TIMEOUT 180
#define MAX_TIMEOUT 86400

#define PUBLIC __attribute__((visibility("default")))

/* pam_google_authenticator's syslog ident suffix (since 2020; v1.08 had "(pam_google_authenticator)"). */
#define GA_MODULE_NAME "(pam_google_auth)"

static const char *const env_whitelist[] = { "SSH_CONNECTION", "SSH_ORIGINAL_COMMAND", "SUDO_COMMAND", "SUDO_USER", "DUO_PASSCODE" };

struct opts {
	const char *helper;
	const char *node;
	int timeout_ms;
	int debug;
};

struct ctx {
	pam_handle_t *pamh;
	int debug;
	int silent;     /* PAM_SILENT: no INFO/ERROR messages (prompts still go through) */
	int local;      /* mode=local: log as pam_google_authenticator */
};

/* Upstream's log_message(): the ident is "<service>(pam_google_auth)" in an 80-byte buffer. */
static void ga_syslog(pam_handle_t *pamh, int prio, const char *msg)
{
	const void *service = NULL;
	char ident[80];

	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL)
		service = "";
	snprintf(ident, sizeof(ident), "%s" GA_MODULE_NAME, (const char *)service);
	openlog(ident, LOG_CONS | LOG_PID, LOG_AUTHPRIV);
	syslog(prio, "%s", msg);
	closelog();
}

static void log_sink(void *vctx, int prio, const char *msg)
{
	struct ctx *x = vctx;

	if (prio == LOG_DEBUG && !x->debug)
		return;
	if (x->local)
		ga_syslog(x->pamh, prio, msg);
	else
		pam_syslog(x->pamh, prio, "%s", msg);
	if (x->debug)
		fprintf(stderr, "[pam_tandem] %s\n", msg);
}

static int parse_opts(struct tp_child *c, int argc, const char **argv, struct opts *o)
{
	o->helper = TANDEM_HELPER;
	o->node = TANDEM_NODE;
	o->timeout_ms = DEFAULT_TIMEOUT * 1000;
	o->debug = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "helper=", 7) == 0) {
			o->helper = a + 7;
		} else if (strncmp(a, "node=", 5) == 0) {
			o->node = a + 5;
		} else if (strncmp(a, "timeout=", 8) == 0) {
			char *end;
			errno = 0;
			long t = strtol(a + 8, &end, 10);
			if (errno != 0 || end == a + 8 || *end != '\0' || t < 1 || t > MAX_TIMEOUT) {
				tp_logf(c, LOG_ERR, "bad module argument '%s' (seconds, 1-%d)", a, MAX_TIMEOUT);
				return -1;
			}
			o->timeout_ms = (int)t * 1000;
		} else if (strcmp(a, "debug") == 0) {
			o->debug = 1;
		}
		/* conf= and everything else is the helper's business. */
	}
	return 0;
}

/* ---- the conversation, through the application's pam_conv -------------------------------- */

static void free_responses(struct pam_response *resp)
{
	if (resp == NULL)
		return;
	if (resp->resp != NULL) {
		explicit_bzero(resp->resp, strlen(resp->resp));
		free(resp->resp);
	}
	free(resp);
}

static int converse(pam_handle_t *pamh, int style, const char *text, struct pam_response **resp)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg = { .msg_style = style, .msg = text };
	const struct pam_message *msgs[1] = { &msg };

	*resp = NULL;
	if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	return conv->conv(1, msgs, resp, conv->appdata_ptr);
}

static int ui_prompt(void *vctx, int echo, const char *text, char **answer)
{
	struct ctx *x = vctx;
	struct pam_response *resp = NULL;
	int r = converse(x->pamh, echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, text, &resp);

	if (r != PAM_SUCCESS || resp == NULL || resp->resp == NULL) {
		free_responses(resp);
		return -1;
	}
	*answer = resp->resp;   /* the caller zeroes and frees it */
	resp->resp = NULL;
	free(resp);
	return 0;
}

static void ui_message(void *vctx, int is_error, const char *text)
{
	struct ctx *x = vctx;
	struct pam_response *resp = NULL;

	if (x->silent)
		return;
	if (converse(x->pamh, is_error ? PAM_ERROR_MSG : PAM_TEXT_INFO, text, &resp) != PAM_SUCCESS)
		log_sink(x, LOG_DEBUG, "conversation refused a message");
	free_responses(resp);
}

static int ui_setauthtok(void *vctx, const char *tok)
{
	struct ctx *x = vctx;

	if (pam_set_item(x->pamh, PAM_AUTHTOK, tok) != PAM_SUCCESS) {
		log_sink(x, LOG_ERR, "cannot set PAM_AUTHTOK");
		return -1;
	}
	return 0;
}

/* ---- the request ------------------------------------------------------------------------------ */

static int send_item(struct tp_child *c, pam_handle_t *pamh, int item, const char *name, int timeout_ms)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS || v == NULL)
		return TP_OK;
	return tp_send(c, "ITEM", name, v, timeout_ms);
}

static int send_request(struct tp_child *c, pam_handle_t *pamh, const char *user, int argc, const char **argv, int timeout_ms)
{
	char num[32];
	const void *tok = NULL;
	int r;

	if ((r = tp_send(c, "TANDEM-PAM", NULL, "1", timeout_ms)) != TP_OK || (r = tp_send(c, "ITEM", "user", user, timeout_ms)) != TP_OK
	    || (r = send_item(c, pamh, PAM_RUSER, "ruser", timeout_ms)) != TP_OK || (r = send_item(c, pamh, PAM_RHOST, "rhost", timeout_ms)) != TP_OK
	    || (r = send_item(c, pamh, PAM_SERVICE, "service", timeout_ms)) != TP_OK || (r = send_item(c, pamh, PAM_TTY, "tty", timeout_ms)) != TP_OK)
		return r;
	snprintf(num, sizeof(num), "%u", (unsigned)getuid());
	if ((r = tp_send(c, "ITEM", "uid", num, timeout_ms)) != TP_OK)
		return r;
	snprintf(num, sizeof(num), "%u", (unsigned)geteuid());
	if ((r = tp_send(c, "ITEM", "euid", num, timeout_ms)) != TP_OK)
		return r;
	for (int i = 0; i < argc; i++)
		if ((r = tp_send(c, "ARG", NULL, argv[i], timeout_ms)) != TP_OK)
			return r;
	for (size_t i = 0; i < sizeof(env_whitelist) / sizeof(env_whitelist[0]); i++) {
		const char *v = pam_getenv(pamh, env_whitelist[i]);
		if (v == NULL)
			v = getenv(env_whitelist[i]);
		if (v != NULL && (r = tp_send(c, "ENV", env_whitelist[i], v, timeout_ms)) != TP_OK)
			return r;
	}
	if (pam_get_item(pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS && tok != NULL
	    && (r = tp_send(c, "AUTHTOK", NULL, tok, timeout_ms)) != TP_OK)
		return r;
	return tp_send(c, "END", NULL, NULL, timeout_ms);
}

/* ---- the module ------------------------------------------------------------------------------- */

/* Everything after the argument and path checks; returns the PAM code. */
static int run(struct tp_child *c, struct ctx *x, const struct opts *o, int node_fd, const char *node, const char *helper,
    const char *user, int argc, const char **argv)
{
	const struct tp_ui ui = { .ctx = x, .prompt = ui_prompt, .message = ui_message, .setauthtok = ui_setauthtok };
	enum tp_outcome outcome = TP_DENY;
	char why[256], reason[256] = "";
	int r, status = 0;

	if (th_spawn(c, node_fd, node, helper, NULL, why, sizeof(why)) != 0) {
		tp_logf(c, LOG_ERR, "cannot start the helper: %s", why);
		return PAM_AUTH_ERR;
	}
	if ((r = send_request(c, x->pamh, user, argc, argv, o->timeout_ms)) != TP_OK)
		tp_logf(c, LOG_ERR, "writing the request: %s", tp_strerror(r));
	else if ((r = tp_converse(c, &ui, o->timeout_ms, &outcome, reason, sizeof(reason))) != TP_OK)
		tp_logf(c, LOG_ERR, "helper conversation failed: %s", tp_strerror(r));
	else if ((r = th_finish(c, o->timeout_ms, &status)) != TP_OK)
		tp_logf(c, LOG_ERR, "after RESULT: %s", tp_strerror(r));
	if (r != TP_OK) {
		th_kill(c);
		return PAM_AUTH_ERR;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			tp_logf(c, LOG_ERR, "helper killed by signal %d", WTERMSIG(status));
		else
			tp_logf(c, LOG_ERR, "helper exited with status %d", WEXITSTATUS(status));
		return PAM_AUTH_ERR;
	}
	/* Local mode: the helper has logged upstream's verdict line; ours is a debug line there. */
	tp_logf(c, x->local ? LOG_DEBUG : outcome == TP_DENY ? LOG_NOTICE : LOG_INFO, "user %s: %s%s%s", user,
	    outcome == TP_SUCCESS ? "success" : outcome == TP_IGNORE ? "ignore" : "deny", reason[0] ? ": " : "", reason);
	return outcome == TP_SUCCESS ? PAM_SUCCESS : outcome == TP_IGNORE ? PAM_IGNORE : PAM_AUTH_ERR;
}

PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct tp_child *c;
	struct ctx x = { .pamh = pamh, .debug = 0, .silent = (flags & PAM_SILENT) != 0, .local = 0 };
	struct opts o;
	struct sigaction dfl, old_chld;
	char why[PATH_MAX + 128], node[PATH_MAX], helper[PATH_MAX];
	const char *user = NULL;
	int node_fd = -1, helper_fd = -1, rc = PAM_AUTH_ERR;

	if ((c = calloc(1, sizeof(*c))) == NULL)        /* big buffers: not on the caller's stack */
		return PAM_BUF_ERR;
	c->pid = -1;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->log = log_sink;
	c->log_ctx = &x;
	for (int i = 0; i < argc; i++)          /* the helper's own test (src/client/helper-main.ts) */
		if (strcmp(argv[i], "mode=local") == 0)
			x.local = 1;
	c->err_bare = x.local;
	if (parse_opts(c, argc, argv, &o) != 0)
		goto out;
	x.debug = o.debug;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0') {
		tp_logf(c, LOG_ERR, "no user");
		goto out;
	}
	if (th_open_trusted(o.node, &node_fd, node, sizeof(node), why, sizeof(why)) != 0) {
		tp_logf(c, LOG_ERR, "refusing node: %s", why);
		goto out;
	}
	if (th_open_trusted(o.helper, &helper_fd, helper, sizeof(helper), why, sizeof(why)) != 0) {
		tp_logf(c, LOG_ERR, "refusing helper: %s", why);
		goto out;
	}
	close(helper_fd);       /* node reads the checked path; only root can change what is there */

	/* waitpid() needs SIGCHLD not ignored (as pam_unix does for its helper). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	rc = run(c, &x, &o, node_fd, node, helper, user, argc, argv);
	sigaction(SIGCHLD, &old_chld, NULL);
out:
	if (node_fd >= 0)
		close(node_fd);
	th_release(c);
	free(c);
	return rc;
}

PUBLIC int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* A second factor keeps no account state. */
PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
